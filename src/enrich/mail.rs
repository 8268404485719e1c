//! Mail readiness: can the domain receive mail (MX), send it (an SPF record that authorises
//! senders), both (`mail-ready`: ready to send phishing mail and read the replies), or
//! neither. A null MX (`MX 0 .`, RFC 7505) says the domain takes no mail. DMARC's policy is
//! read for the record, not for the verdict: a phisher's own domain passes its own DMARC.

use crate::store::{DnsInfo, MailReadiness};

/// The SPF record among a domain's TXT records (`v=spf1`, RFC 7208 §4.5: exactly one counts;
/// with several, none does).
pub fn spf(texts: &[String]) -> Option<&str> {
    let mut found = texts.iter().filter(|t| is_version(t, "v=spf1"));
    let first = found.next()?;
    found.next().is_none().then_some(first.as_str())
}

/// The DMARC record among `_dmarc` TXT records (`v=DMARC1`, RFC 7489 §6.6.3).
pub fn dmarc(texts: &[String]) -> Option<&str> {
    let mut found = texts
        .iter()
        .filter(|t| is_version(t.trim_start(), "v=dmarc1"));
    let first = found.next()?;
    found.next().is_none().then_some(first.as_str())
}

fn is_version(text: &str, version: &str) -> bool {
    let head = text.get(..version.len()).unwrap_or("");
    head.eq_ignore_ascii_case(version)
        && text[version.len()..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == ';')
}

/// DMARC `p=`: `none`, `quarantine` or `reject` (anything else is not a policy).
pub fn dmarc_policy(record: &str) -> Option<String> {
    record.split(';').find_map(|tag| {
        let (k, v) = tag.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("p") {
            return None;
        }
        let v = v.trim().to_ascii_lowercase();
        matches!(v.as_str(), "none" | "quarantine" | "reject").then_some(v)
    })
}

/// Whether an SPF record authorises any sender: a mechanism other than `all` (`ip4`, `a`,
/// `mx`, `include`, ...), a `redirect=`, or `+all`/`?all`. `v=spf1 -all` and `v=spf1 ~all`
/// say the domain sends no mail.
pub fn spf_authorises(record: &str) -> bool {
    record.split_ascii_whitespace().skip(1).any(|term| {
        let lower = term.to_ascii_lowercase();
        if lower.starts_with("redirect=") {
            return true;
        }
        if lower.contains('=') {
            return false; // another modifier (exp=)
        }
        let (qualifier, mechanism) = match lower.chars().next() {
            Some(q @ ('+' | '-' | '~' | '?')) => (q, &lower[1..]),
            _ => ('+', lower.as_str()),
        };
        if qualifier == '-' || qualifier == '~' {
            return false;
        }
        let name = mechanism.split([':', '/']).next().unwrap_or("");
        matches!(
            name,
            "all" | "ip4" | "ip6" | "a" | "mx" | "include" | "exists" | "ptr"
        )
    })
}

/// The verdict for a domain's DNS.
pub fn readiness(dns: &DnsInfo) -> MailReadiness {
    let receive = !dns.mx.is_empty();
    let send = dns.spf.as_deref().is_some_and(spf_authorises);
    match (receive, send) {
        (true, true) => MailReadiness::MailReady,
        (true, false) => MailReadiness::CanReceive,
        (false, true) => MailReadiness::CanSend,
        (false, false) => MailReadiness::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! t {
        ($name:ident, $spf:expr, $authorises:expr) => {
            #[test]
            fn $name() {
                assert_eq!(spf_authorises($spf), $authorises, "{}", $spf);
            }
        };
    }

    t!(
        include_authorises,
        "v=spf1 include:_spf.google.com ~all",
        true
    );
    t!(ip4_authorises, "v=spf1 ip4:192.0.2.0/24 -all", true);
    t!(bare_mx_authorises, "v=spf1 mx -all", true);
    t!(
        redirect_authorises,
        "v=spf1 redirect=_spf.example.net",
        true
    );
    t!(plus_all_authorises, "v=spf1 +all", true);
    t!(hard_fail_only_does_not, "v=spf1 -all", false);
    t!(soft_fail_only_does_not, "v=spf1 ~all", false);
    t!(
        negated_mechanisms_do_not,
        "v=spf1 -ip4:192.0.2.1 -all",
        false
    );
    t!(
        exp_modifier_does_not,
        "v=spf1 exp=explain.example -all",
        false
    );

    #[test]
    fn spf_and_dmarc_records_are_found_once() {
        let texts = vec![
            "google-site-verification=abc".to_owned(),
            "v=spf1 mx -all".to_owned(),
        ];
        assert_eq!(spf(&texts), Some("v=spf1 mx -all"));
        let two = vec!["v=spf1 mx -all".to_owned(), "V=SPF1 a -all".to_owned()];
        assert_eq!(spf(&two), None, "two SPF records are a permerror");
        assert_eq!(spf(&["v=spf10 a".to_owned()]), None);
        let d = vec!["v=DMARC1; p=reject; rua=mailto:d@example.org".to_owned()];
        assert_eq!(dmarc(&d), Some(d[0].as_str()));
        assert_eq!(dmarc_policy(&d[0]).as_deref(), Some("reject"));
        assert_eq!(dmarc_policy("v=DMARC1; p=whatever").as_deref(), None);
        assert_eq!(
            dmarc_policy("v=DMARC1;P=Quarantine").as_deref(),
            Some("quarantine")
        );
    }

    #[test]
    fn readiness_needs_mx_and_spf() {
        let mut d = DnsInfo::default();
        assert_eq!(readiness(&d), MailReadiness::None);
        d.mx = vec!["mx.example".into()];
        assert_eq!(readiness(&d), MailReadiness::CanReceive);
        d.spf = Some("v=spf1 mx -all".into());
        assert_eq!(readiness(&d), MailReadiness::MailReady);
        d.mx.clear();
        d.null_mx = true;
        assert_eq!(readiness(&d), MailReadiness::CanSend);
        d.spf = Some("v=spf1 -all".into());
        assert_eq!(readiness(&d), MailReadiness::None);
    }

    /// A hostile 64 KB TXT record: the DNS layer cuts it to 2 KB; the parsers take any text.
    #[test]
    fn a_huge_spf_record_parses_without_trouble() {
        let huge = format!("v=spf1 {}-all", "ip4:192.0.2.1 ".repeat(5000));
        assert!(huge.len() > 64_000);
        assert!(spf_authorises(&huge));
        assert_eq!(spf(std::slice::from_ref(&huge)), Some(huge.as_str()));
        assert_eq!(dmarc_policy(&"p=".repeat(30_000)), None);
    }
}
