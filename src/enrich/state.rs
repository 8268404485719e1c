//! From lookups to a verdict: the state, the score adjustment, what changed since the last
//! lookup, whether that escalates, and when to look again.
//!
//! # State
//!
//! `unregistered` when the registry answers 404, or DNS answers NXDOMAIN and the registry
//! does not say otherwise; else `mail-ready` when mail readiness is `mail-ready`; else `live`
//! when the web probe got an answer (any status below 500) that is not a parking page; else
//! `parked` when the page or the name servers say parked; else `registered`.
//!
//! # Score adjustment, bounded to −[`MAX_DOWN`]..+[`MAX_UP`]
//!
//! | evidence | points |
//! |---|---|
//! | mail-ready | +10 |
//! | can receive or can send mail (not both) | +5 |
//! | the page names the brand or its terms | +10 |
//! | live (a page that is not parked) | +5 |
//! | registered in the last 30 days | +5 |
//! | parked | −5 |
//! | unregistered (NXDOMAIN or RDAP 404) | −15 |
//!
//! The shown score is the finding's score plus this, within 0–100. The finding itself (and
//! its alert band) is never rewritten, and nothing is ever deleted: an unregistered domain
//! can be registered tomorrow.

use std::time::{Duration, SystemTime};

use crate::store::{
    DnsInfo, DomainState, Enrichment, Escalation, MailReadiness, RdapInfo, WebInfo,
};

pub const MAX_UP: i8 = 20;
pub const MAX_DOWN: i8 = 20;
/// A domain registered this recently counts as fresh.
const FRESH: Duration = Duration::from_secs(30 * 24 * 3600);

/// The state the lookups point to.
pub fn state(
    dns: Option<&DnsInfo>,
    rdap: Option<&RdapInfo>,
    web: Option<&WebInfo>,
    mail: MailReadiness,
) -> DomainState {
    let rdap_says = rdap.map(|r| r.registered);
    if rdap_says == Some(false) || (rdap_says.is_none() && dns.is_some_and(|d| d.nxdomain)) {
        return DomainState::Unregistered;
    }
    if mail == MailReadiness::MailReady {
        return DomainState::MailReady;
    }
    let page = web.filter(|w| w.status.is_some_and(|s| s < 500) && w.error.is_none());
    let parked = page.is_some_and(|w| w.parked)
        || dns.is_some_and(|d| super::parked::by_name_servers(&d.ns).is_some());
    if page.is_some() && !parked {
        return DomainState::Live;
    }
    if parked {
        return DomainState::Parked;
    }
    DomainState::Registered
}

/// The bounded score adjustment (see the module docs).
pub fn score_adjustment(
    state: DomainState,
    mail: MailReadiness,
    rdap: Option<&RdapInfo>,
    web: Option<&WebInfo>,
    now: SystemTime,
) -> i8 {
    let mut points: i32 = 0;
    match mail {
        MailReadiness::MailReady => points += 10,
        MailReadiness::CanReceive | MailReadiness::CanSend => points += 5,
        MailReadiness::None => {}
    }
    if web.is_some_and(|w| w.mentions_brand && w.error.is_none()) {
        points += 10;
    }
    match state {
        DomainState::Live => points += 5,
        DomainState::Parked => points -= 5,
        DomainState::Unregistered => points -= 15,
        _ => {}
    }
    let fresh = rdap
        .and_then(|r| r.created.as_deref())
        .and_then(|c| humantime::parse_rfc3339_weak(c).ok())
        .is_some_and(|t| now.duration_since(t).is_ok_and(|age| age <= FRESH));
    if fresh {
        points += 5;
    }
    points.clamp(-i32::from(MAX_DOWN), i32::from(MAX_UP)) as i8
}

/// The score shown for a finding with `score` and this enrichment.
pub fn adjusted(score: u8, e: Option<&Enrichment>) -> u8 {
    let adj = e.map_or(0, |e| i32::from(e.score_adjustment));
    (i32::from(score) + adj).clamp(0, 100) as u8
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// What changed between two lookups (both with DNS answers), and the escalation it calls for:
/// the domain became live or mail-ready, or its A, MX or NS records changed. The first lookup
/// has nothing to compare with: it records, it does not escalate (the `new` alert has just
/// gone out).
pub fn changes(previous: &Enrichment, now: &Enrichment) -> (Vec<String>, Option<Escalation>) {
    let mut changes = Vec::new();
    let (Some(before), Some(after)) = (previous.state, now.state) else {
        return (changes, None);
    };
    let mut escalate = Vec::new();
    if before != after {
        changes.push(format!("state {before} → {after}"));
    }
    if after == DomainState::Live && before != DomainState::Live {
        let w = now.web.as_ref();
        let mut s = format!(
            "now live: {} answers {}",
            w.and_then(|w| w.url.as_deref()).unwrap_or("the site"),
            w.and_then(|w| w.status)
                .map_or("-".into(), |s| s.to_string())
        );
        if let Some(t) = w.and_then(|w| w.title.as_deref()) {
            s.push_str(&format!(", title '{t}'"));
        }
        escalate.push(s);
    }
    if after == DomainState::MailReady && before != DomainState::MailReady {
        let mx = now.dns.as_ref().map(|d| list(&d.mx)).unwrap_or_default();
        escalate.push(format!(
            "now mail-ready: MX {mx} and an SPF record that allows sending"
        ));
    }
    if let (Some(b), Some(a)) = (&previous.dns, &now.dns) {
        for (kind, old, new) in [
            ("A", &b.a, &a.a),
            ("MX", &b.mx, &a.mx),
            ("NS", &b.ns, &a.ns),
        ] {
            if old != new {
                let s = format!("{kind} records changed: {} → {}", list(old), list(new));
                changes.push(s.clone());
                escalate.push(s);
            }
        }
    }
    if escalate.is_empty() {
        return (changes, None);
    }
    let dns = now.dns.clone().unwrap_or_default();
    let id = format!(
        "{after}|A={}|MX={}|NS={}",
        dns.a.join(","),
        dns.mx.join(","),
        dns.ns.join(",")
    );
    for e in &escalate {
        if !changes.contains(e) {
            changes.push(e.clone());
        }
    }
    (
        changes,
        Some(Escalation {
            change: format!("escalated by enrichment: {}", escalate.join("; ")),
            id,
        }),
    )
}

/// When to look again: after a failed lookup, soon (`retry`, doubling per failure, at most
/// 6 h); else the next step of the ladder (`recheck`, offsets from `e.base_ms`) that is still
/// ahead. After the last step the schedule ends, unless the state changed at this lookup:
/// then the ladder starts again from now. Updates `e.step`, `e.base_ms`, `e.failures` and
/// returns the due time (Unix ms), or `None`.
pub fn next_due(
    e: &mut Enrichment,
    recheck: &[Duration],
    now_ms: u64,
    failed: bool,
    state_changed: bool,
) -> Option<u64> {
    if failed {
        e.failures = e.failures.saturating_add(1);
        let base = recheck
            .first()
            .copied()
            .unwrap_or(Duration::from_secs(300))
            .min(Duration::from_secs(300));
        let wait = base
            .saturating_mul(1 << (e.failures - 1).min(10))
            .min(Duration::from_secs(6 * 3600));
        return Some(now_ms + wait.as_millis() as u64);
    }
    e.failures = 0;
    let ended = e.step as usize >= recheck.len();
    if state_changed && ended {
        e.base_ms = now_ms;
        e.step = 0;
    }
    while let Some(offset) = recheck.get(e.step as usize) {
        e.step += 1;
        let at = e.base_ms + offset.as_millis() as u64;
        if at > now_ms {
            return Some(at);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dns(a: &[&str]) -> DnsInfo {
        DnsInfo {
            a: a.iter().map(|s| s.to_string()).collect(),
            ns: vec!["ns1.example.net".into()],
            ..DnsInfo::default()
        }
    }

    fn page(status: u16, parked: bool) -> WebInfo {
        WebInfo {
            status: Some(status),
            parked,
            ..WebInfo::default()
        }
    }

    #[test]
    fn states() {
        let none = MailReadiness::None;
        let nx = DnsInfo {
            nxdomain: true,
            ..DnsInfo::default()
        };
        assert_eq!(
            state(Some(&nx), None, None, none),
            DomainState::Unregistered
        );
        let registered = RdapInfo {
            registered: true,
            ..RdapInfo::default()
        };
        assert_eq!(
            state(Some(&nx), Some(&registered), None, none),
            DomainState::Registered,
            "registered but not delegated"
        );
        let d = dns(&["192.0.2.1"]);
        assert_eq!(state(Some(&d), None, None, none), DomainState::Registered);
        assert_eq!(
            state(Some(&d), None, Some(&page(200, false)), none),
            DomainState::Live
        );
        assert_eq!(
            state(Some(&d), None, Some(&page(200, true)), none),
            DomainState::Parked
        );
        assert_eq!(
            state(Some(&d), None, Some(&page(503, false)), none),
            DomainState::Registered
        );
        let parked_ns = DnsInfo {
            ns: vec!["ns1.sedoparking.com".into()],
            ..DnsInfo::default()
        };
        assert_eq!(
            state(Some(&parked_ns), None, None, none),
            DomainState::Parked
        );
        assert_eq!(
            state(
                Some(&d),
                None,
                Some(&page(200, false)),
                MailReadiness::MailReady
            ),
            DomainState::MailReady
        );
    }

    #[test]
    fn the_adjustment_is_bounded() {
        let now = SystemTime::now();
        let fresh = RdapInfo {
            registered: true,
            created: Some(humantime::format_rfc3339_seconds(now).to_string()),
            ..RdapInfo::default()
        };
        let mentions = WebInfo {
            status: Some(200),
            mentions_brand: true,
            ..WebInfo::default()
        };
        let up = score_adjustment(
            DomainState::Live,
            MailReadiness::MailReady,
            Some(&fresh),
            Some(&mentions),
            now,
        );
        assert_eq!(up, MAX_UP, "10 + 10 + 5 + 5 capped");
        let down = score_adjustment(
            DomainState::Unregistered,
            MailReadiness::None,
            None,
            None,
            now,
        );
        assert_eq!(down, -15);
        let e = Enrichment {
            score_adjustment: 20,
            ..Enrichment::default()
        };
        assert_eq!(adjusted(95, Some(&e)), 100);
        assert_eq!(
            adjusted(
                10,
                Some(&Enrichment {
                    score_adjustment: -15,
                    ..e
                })
            ),
            0
        );
    }

    #[test]
    fn becoming_live_escalates_once_with_the_change() {
        let before = Enrichment {
            state: Some(DomainState::Registered),
            dns: Some(dns(&["192.0.2.1"])),
            ..Enrichment::default()
        };
        let after = Enrichment {
            state: Some(DomainState::Live),
            dns: Some(dns(&["127.0.0.1"])),
            web: Some(WebInfo {
                url: Some("https://paypa1.test/".into()),
                status: Some(200),
                title: Some("Sign in".into()),
                ..WebInfo::default()
            }),
            ..Enrichment::default()
        };
        let (changes, esc) = changes(&before, &after);
        let esc = esc.unwrap();
        assert!(
            esc.change
                .contains("now live: https://paypa1.test/ answers 200, title 'Sign in'"),
            "{}",
            esc.change
        );
        assert!(
            esc.change
                .contains("A records changed: 192.0.2.1 → 127.0.0.1")
        );
        assert!(changes.contains(&"state registered → live".to_owned()));
        // Nothing changed: nothing escalates. The first lookup never does.
        assert!(super::changes(&after, &after).1.is_none());
        assert!(super::changes(&Enrichment::default(), &after).1.is_none());
    }

    #[test]
    fn the_recheck_ladder() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        let ladder = [h(1), h(6), h(24)];
        let mut e = Enrichment::default();
        let hour = 3_600_000;
        assert_eq!(next_due(&mut e, &ladder, 0, false, false), Some(hour));
        assert_eq!(
            next_due(&mut e, &ladder, hour, false, false),
            Some(6 * hour)
        );
        // Late (the service was down): steps already past are skipped.
        assert_eq!(
            next_due(&mut e, &ladder, 7 * hour, false, false),
            Some(24 * hour)
        );
        assert_eq!(next_due(&mut e, &ladder, 24 * hour, false, false), None);
        // After the end, a state change starts the ladder again.
        assert_eq!(
            next_due(&mut e, &ladder, 30 * hour, false, true),
            Some(31 * hour)
        );
        // Failures retry soon, doubling, capped.
        let mut f = Enrichment::default();
        assert_eq!(next_due(&mut f, &ladder, 0, true, false), Some(300_000));
        assert_eq!(next_due(&mut f, &ladder, 0, true, false), Some(600_000));
        for _ in 0..20 {
            next_due(&mut f, &ladder, 0, true, false);
        }
        assert_eq!(next_due(&mut f, &ladder, 0, true, false), Some(6 * hour));
    }
}
