//! The language and time zone of alert text. A route's `language` (`"en"`, `"ja"`) picks the
//! words of its mail, Slack and Teams messages; `[alerts] timezone` (an IANA name such as
//! `"Asia/Tokyo"`, resolved with jiff and its bundled time-zone database) the zone their times
//! are shown in. Machine-readable payloads (webhooks, commands) are not localised: their times
//! stay RFC 3339 UTC.
//!
//! What a finding says in its own words — the matcher's reasons, the enrichment summary, an
//! escalation's change — is English in every language, as the API and `check` show it.

use jiff::tz::TimeZone;

use crate::finding::Technique;

/// The language of a route's alert text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    En,
    Ja,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Ja];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ja => "ja",
        }
    }

    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// How a route writes for people: its language and the zone of its times.
#[derive(Debug, Clone)]
pub struct Locale {
    pub language: Language,
    pub timezone: TimeZone,
    /// The IANA name, as configured (for `config check`).
    pub timezone_name: String,
}

impl Default for Locale {
    fn default() -> Self {
        Locale {
            language: Language::En,
            timezone: TimeZone::UTC,
            timezone_name: "UTC".into(),
        }
    }
}

/// Resolves an IANA time-zone name (`Asia/Tokyo`, `UTC`).
pub fn timezone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name.trim()).map_err(|e| {
        format!(
            "unknown time zone \"{name}\" (an IANA name such as \"Asia/Tokyo\" or \"UTC\"): {e}"
        )
    })
}

impl Locale {
    /// The words of this locale.
    pub fn words(&self) -> &'static Words {
        match self.language {
            Language::En => &EN,
            Language::Ja => &JA,
        }
    }

    fn is_utc(&self) -> bool {
        self.timezone_name.eq_ignore_ascii_case("UTC")
            || self.timezone_name.eq_ignore_ascii_case("Etc/UTC")
    }

    /// A stored RFC 3339 time as a reader of this route reads it: unchanged in English and
    /// UTC (as the API shows it), `2026-11-28 15:41:07 JST (+09:00)` in another zone,
    /// `2026年11月28日 15:41:07 JST` in Japanese. Text that is not a time is returned as is.
    pub fn time(&self, rfc3339: &str) -> String {
        if self.language == Language::En && self.is_utc() {
            return rfc3339.to_owned();
        }
        let Ok(ts) = rfc3339.trim().parse::<jiff::Timestamp>() else {
            return rfc3339.to_owned();
        };
        let zoned = jiff::ZonedDateTime::new(ts, self.timezone.clone());
        match self.language {
            Language::En => zoned.strftime("%Y-%m-%d %H:%M:%S %Z (%:z)").to_string(),
            Language::Ja => zoned.strftime("%Y年%m月%d日 %H:%M:%S %Z").to_string(),
        }
    }

    /// Technique names as the reader sees them: `homoglyph` in English, `似た文字 (homoglyph)`
    /// in Japanese (the name stays, as `hits --technique` takes it).
    pub fn technique(&self, t: Technique) -> String {
        match self.language {
            Language::En => t.name().to_owned(),
            Language::Ja => format!("{} ({})", technique_ja(t), t.name()),
        }
    }
}

fn technique_ja(t: Technique) -> &'static str {
    match t {
        Technique::Homoglyph => "似た文字",
        Technique::MixedScript => "文字種の混在",
        Technique::Addition => "文字の追加",
        Technique::Omission => "文字の欠落",
        Technique::Repetition => "文字の重複",
        Technique::Replacement => "隣のキーへの置換",
        Technique::Substitution => "文字の置換",
        Technique::Transposition => "文字の入れ替え",
        Technique::Insertion => "文字の挿入",
        Technique::VowelSwap => "母音の置換",
        Technique::Bitsquatting => "ビット反転",
        Technique::Hyphenation => "ハイフンの挿入",
        Technique::Subdomain => "ドットの挿入",
        Technique::TldSwap => "TLD違い",
        Technique::Combosquat => "語の組み合わせ",
        Technique::LevelSquat => "正規ドメインをサブドメインに偽装",
        Technique::MissingDot => "ドットの欠落",
        Technique::Typo => "タイプミス",
    }
}

/// Every fixed word of alert text. Placeholders are filled by the templates with `replace`:
/// `{brand}`, `{domain}`, `{n}`, `{new}`, `{escalated}`, `{term}`, `{time}`, `{from}`, `{to}`,
/// `{route}`, `{delivery}`, `{command}`, `{others}`, `{reason}`.
#[derive(Debug)]
pub struct Words {
    /// Mail subject of one finding, after `[lookalike] `.
    pub subject: &'static str,
    pub subject_escalated: &'static str,
    /// A triage decision, on a route that takes every state change.
    pub subject_triaged: &'static str,
    pub digest_new: &'static str,
    pub digest_new_one: &'static str,
    pub digest_mixed: &'static str,
    pub highest_first: &'static str,
    pub more_not_described: &'static str,
    pub title: &'static str,
    pub domain: &'static str,
    pub unicode: &'static str,
    pub registrable: &'static str,
    pub brand: &'static str,
    pub brand_term: &'static str,
    pub techniques: &'static str,
    pub score: &'static str,
    /// "score 80" inside a sentence.
    pub score_inline: &'static str,
    pub alert: &'static str,
    pub enrichment: &'static str,
    pub first_seen: &'static str,
    pub last_seen: &'static str,
    pub sightings_one: &'static str,
    pub sightings: &'static str,
    pub why: &'static str,
    pub sources: &'static str,
    pub source_name: &'static str,
    pub source_issuer: &'static str,
    pub source_valid: &'static str,
    pub valid_range: &'static str,
    pub earlier_not_shown: &'static str,
    pub triage: &'static str,
    pub triage_advice: &'static str,
    pub new_finding: &'static str,
    pub escalated_band: &'static str,
    pub footer: &'static str,
    /// Chat messages.
    pub chat_title: &'static str,
    pub chat_fallback: &'static str,
    pub chat_why: &'static str,
    pub chat_more: &'static str,
    pub chat_triage: &'static str,
    pub seen: &'static str,
    pub seen_label: &'static str,
    pub log: &'static str,
    pub issuer: &'static str,
    pub delivery: &'static str,
    pub reason_new: &'static str,
    pub reason_escalated: &'static str,
    pub reason_triaged: &'static str,
}

pub static EN: Words = Words {
    subject: "{brand}: {techniques} — {domain} (score {n})",
    subject_escalated: "{brand}: {techniques} — {domain} (score {n}, escalated)",
    subject_triaged: "{brand}: {techniques} — {domain} (score {n}, triaged)",
    digest_new: "{n} new lookalike domains",
    digest_new_one: "1 new lookalike domain",
    digest_mixed: "{n} lookalike domains: {new} new, {escalated} escalated",
    highest_first: "{headline}, highest score first.",
    more_not_described: "{n} more findings are listed above but not described here; every finding is in the store.",
    title: "{brand}: lookalike domain {domain}",
    domain: "Domain",
    unicode: "Unicode",
    registrable: "Registrable",
    brand: "Brand",
    brand_term: "{brand} (term '{term}')",
    techniques: "Techniques",
    score: "Score",
    score_inline: "score",
    alert: "Alert",
    enrichment: "Enrichment",
    first_seen: "First seen",
    last_seen: "Last seen",
    sightings_one: "{time} (1 sighting)",
    sightings: "{time} ({n} sightings)",
    why: "Why it matched",
    sources: "Sources (most recent first)",
    source_name: "name",
    source_issuer: "issuer",
    source_valid: "valid",
    valid_range: "{from} to {to}",
    earlier_not_shown: "({n} earlier sightings not shown)",
    triage: "Triage",
    triage_advice: "Do not open the domain in a normal browser. Look at the certificate and at whether the domain is live, then record the verdict (one of the statuses):",
    new_finding: "new finding",
    escalated_band: "escalated: the score rose into a higher severity band",
    footer: "Sent by lookalike, route '{route}', delivery {delivery}.",
    chat_title: "Lookalike of {brand}: {domain}",
    chat_fallback: "Lookalike of {brand}: {domain}, score {n} ({reason})",
    chat_why: "Why",
    chat_more: "…and {n} more",
    chat_triage: "Triage: {command} (or {others})",
    seen: "{n} times, last {time}",
    seen_label: "Seen",
    log: "Log",
    issuer: "Issuer",
    delivery: "Delivery",
    reason_new: "new",
    reason_escalated: "escalated",
    reason_triaged: "triaged",
};

pub static JA: Words = Words {
    subject: "{brand} の類似ドメイン: {techniques} — {domain}（スコア {n}）",
    subject_escalated: "{brand} の類似ドメイン: {techniques} — {domain}（スコア {n}、危険度上昇）",
    subject_triaged: "{brand} の類似ドメイン: {techniques} — {domain}（スコア {n}、判定済み）",
    digest_new: "新しい類似ドメイン {n} 件",
    digest_new_one: "新しい類似ドメイン 1 件",
    digest_mixed: "類似ドメイン {n} 件（新規 {new} 件、危険度上昇 {escalated} 件）",
    highest_first: "{headline}。スコアの高い順に示します。",
    more_not_described: "ほか {n} 件は上の一覧にのみ載せています。すべての検出はストアにあります。",
    title: "{brand}: 類似ドメイン {domain}",
    domain: "ドメイン",
    unicode: "Unicode 表記",
    registrable: "登録ドメイン",
    brand: "ブランド",
    brand_term: "{brand}（検出語 '{term}'）",
    techniques: "手口",
    score: "スコア",
    score_inline: "スコア",
    alert: "通知理由",
    enrichment: "調査結果",
    first_seen: "初回観測",
    last_seen: "最終観測",
    sightings_one: "{time}（観測 1 回）",
    sightings: "{time}（観測 {n} 回）",
    why: "検出の理由",
    sources: "観測元（新しい順）",
    source_name: "名前",
    source_issuer: "発行者",
    source_valid: "有効期間",
    valid_range: "{from} ～ {to}",
    earlier_not_shown: "（それ以前の観測 {n} 件は省略）",
    triage: "トリアージ",
    triage_advice: "通常のブラウザでこのドメインを開かないでください。証明書とドメインが稼働しているかを確認し、判定を記録してください（ステータスはいずれか一つ）:",
    new_finding: "新規検出",
    escalated_band: "危険度上昇: スコアがより高い深刻度帯に上がりました",
    footer: "lookalike が送信（ルート '{route}'、配信 ID {delivery}）。",
    chat_title: "{brand} の類似ドメイン: {domain}",
    chat_fallback: "{brand} の類似ドメイン: {domain}、スコア {n}（{reason}）",
    chat_why: "検出の理由",
    chat_more: "…ほか {n} 件",
    chat_triage: "トリアージ: {command}（または {others}）",
    seen: "{n} 回、最終 {time}",
    seen_label: "観測",
    log: "ログ",
    issuer: "発行者",
    delivery: "配信 ID",
    reason_new: "新規",
    reason_escalated: "危険度上昇",
    reason_triaged: "判定済み",
};

/// Fills `{name}` placeholders.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokyo(language: Language) -> Locale {
        Locale {
            language,
            timezone: timezone("Asia/Tokyo").unwrap(),
            timezone_name: "Asia/Tokyo".into(),
        }
    }

    #[test]
    fn times_in_the_configured_zone() {
        let t = "2026-11-28T06:41:07Z";
        assert_eq!(Locale::default().time(t), t);
        assert_eq!(tokyo(Language::Ja).time(t), "2026年11月28日 15:41:07 JST");
        assert_eq!(
            tokyo(Language::En).time(t),
            "2026-11-28 15:41:07 JST (+09:00)"
        );
        assert_eq!(tokyo(Language::Ja).time("not a time"), "not a time");
    }

    #[test]
    fn zone_names_are_iana_names() {
        assert!(timezone("Asia/Tokyo").is_ok());
        assert!(timezone("UTC").is_ok());
        let e = timezone("Asia/Osaka").unwrap_err();
        assert!(e.contains("unknown time zone \"Asia/Osaka\""), "{e}");
    }

    #[test]
    fn languages() {
        assert_eq!(Language::parse("ja"), Some(Language::Ja));
        assert_eq!(Language::parse("EN"), Some(Language::En));
        assert_eq!(Language::parse("fr"), None);
        assert_eq!(
            tokyo(Language::Ja).technique(Technique::Homoglyph),
            "似た文字 (homoglyph)"
        );
    }

    #[test]
    fn fill_replaces_every_placeholder() {
        assert_eq!(
            fill(
                JA.title,
                &[("brand", "楽天"), ("domain", "rakuten-login[.]com")]
            ),
            "楽天: 類似ドメイン rakuten-login[.]com"
        );
    }
}
