//! The finding: what lookalike reports about one (registrable domain, brand) pair, in the
//! versioned JSON schema that `scan --format jsonl`, `check --json`, webhooks and the API share.

use serde::{Deserialize, Serialize};

/// Version of the JSON schema of [`Finding`]; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// How a name imitates a brand term. The names follow dnstwist's fuzzers so results compare
/// one to one; a finding lists every technique that applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    /// Confusable characters: IDN homographs, `rn` for `m`, `0` for `o`, accents.
    Homoglyph,
    /// The label mixes scripts (Latin with Cyrillic, say) beyond what UTS #39 allows.
    MixedScript,
    /// A character added.
    Addition,
    /// A character left out.
    Omission,
    /// A character doubled.
    Repetition,
    /// A character replaced by a neighbouring key.
    Replacement,
    /// A character replaced by another (not a neighbour, not a vowel, not a bit flip).
    Substitution,
    /// Two adjacent characters swapped.
    Transposition,
    /// A neighbouring key's character inserted next to the key.
    Insertion,
    /// A vowel replaced by another vowel.
    VowelSwap,
    /// A character one bit-flip away.
    Bitsquatting,
    /// A hyphen inserted into the term.
    Hyphenation,
    /// A dot inserted into the term (`pay.pal.com`).
    Subdomain,
    /// The term exactly, on another suffix.
    TldSwap,
    /// The term next to other words (`paypal-secure-login`).
    Combosquat,
    /// A brand's domain used as labels of another domain (`paypal.com.verify.xyz`).
    LevelSquat,
    /// A dot left out (`wwwpaypal.com`, `paypalcom.net`).
    MissingDot,
    /// Two edits away from a long term.
    Typo,
}

impl Technique {
    /// Every technique, in the order findings list them.
    pub const ALL: [Technique; 18] = [
        Technique::Homoglyph,
        Technique::MixedScript,
        Technique::Addition,
        Technique::Omission,
        Technique::Repetition,
        Technique::Replacement,
        Technique::Substitution,
        Technique::Transposition,
        Technique::Insertion,
        Technique::VowelSwap,
        Technique::Bitsquatting,
        Technique::Hyphenation,
        Technique::Subdomain,
        Technique::TldSwap,
        Technique::Combosquat,
        Technique::LevelSquat,
        Technique::MissingDot,
        Technique::Typo,
    ];

    /// The name used in JSON, on the command line and in docs.
    pub fn name(self) -> &'static str {
        match self {
            Technique::Homoglyph => "homoglyph",
            Technique::MixedScript => "mixed-script",
            Technique::Addition => "addition",
            Technique::Omission => "omission",
            Technique::Repetition => "repetition",
            Technique::Replacement => "replacement",
            Technique::Substitution => "substitution",
            Technique::Transposition => "transposition",
            Technique::Insertion => "insertion",
            Technique::VowelSwap => "vowel-swap",
            Technique::Bitsquatting => "bitsquatting",
            Technique::Hyphenation => "hyphenation",
            Technique::Subdomain => "subdomain",
            Technique::TldSwap => "tld-swap",
            Technique::Combosquat => "combosquat",
            Technique::LevelSquat => "level-squat",
            Technique::MissingDot => "missing-dot",
            Technique::Typo => "typo",
        }
    }
}

impl std::fmt::Display for Technique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Technique {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Technique::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| format!("unknown technique '{s}'"))
    }
}

/// One finding. Fields after `reasons` are filled in by the store and sources where known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Always [`SCHEMA_VERSION`].
    pub schema: u32,
    /// The observed name, A-label form.
    pub domain: String,
    /// The observed name, U-label form.
    pub unicode: String,
    /// The registrable domain of `domain` (A-label form): what a takedown or a blocklist targets.
    pub registrable: String,
    /// The brand's name as in the watchlist.
    pub brand: String,
    /// The brand term that matched.
    pub term: String,
    /// Every technique that applies, in [`Technique::ALL`] order.
    pub techniques: Vec<Technique>,
    /// 0–100; see the README for how it is computed.
    pub score: u8,
    /// Human sentences saying why this matched.
    pub reasons: Vec<String>,
}
