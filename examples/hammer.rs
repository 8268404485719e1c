//! Random hostile names near the shipped brands' terms and domains — confusables, invisible
//! marks, combining accents, `*.`, dots and hyphens, IDN suffixes, upper case — through
//! `Domain::parse` and `Matcher::check`, for longer than the property tests run. Prints each
//! name that panics and a summary.
//!
//!     cargo run --release --example hammer -- SECONDS SEED
use lookalike::{Domain, Matcher, watchlist};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// One element of `v`, chosen by `rng`.
fn pick<'a, T>(rng: &mut fastrand::Rng, v: &'a [T]) -> &'a T {
    &v[rng.usize(..v.len())]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let brands = watchlist::bundled().unwrap();
    let m = Matcher::build(&brands);
    let terms: Vec<String> = brands
        .iter()
        .flat_map(|b| b.terms.iter().map(|t| t.to_string()))
        .chain(
            brands
                .iter()
                .flat_map(|b| b.domains.iter().map(|d| d.to_string())),
        )
        .collect();
    let extra: Vec<char> = "aeiou0123456789-._*аеорсхуіјԁӏɑéèüößçñ\u{200d}\u{200b}\u{301}\u{fffd}ǅﬁ①Ａｍ𝐚ı\u{130}ß᾿׀ー。．"
        .chars()
        .collect();
    let tlds = [
        "com",
        "net",
        "xyz",
        "co.uk",
        "de",
        "com.br",
        "top",
        "zz",
        "",
        "jp",
        "xn--p1ai",
        "github.io",
    ];
    let kws = [
        "login", "secure", "verify", "www", "com", "app", "mail", "xn--", "-", ".",
    ];
    let mut rng = fastrand::Rng::with_seed(seed);
    let start = std::time::Instant::now();
    let (mut n, mut parsed, mut panics, mut found) = (0u64, 0u64, 0u64, 0u64);
    std::panic::set_hook(Box::new(|_| {}));
    while start.elapsed().as_secs() < secs {
        for _ in 0..1000 {
            let mut parts: Vec<String> = Vec::new();
            for _ in 0..(1 + rng.u64(..) % 4) {
                let mut s: Vec<char> = if rng.u64(..).is_multiple_of(3) {
                    pick(&mut rng, &kws).chars().collect()
                } else {
                    pick(&mut rng, &terms).chars().collect()
                };
                for _ in 0..(rng.u64(..) % 4) {
                    let c = *pick(&mut rng, &extra);
                    let i = rng.usize(..=s.len());
                    match rng.u64(..) % 4 {
                        0 => s.insert(i, c),
                        1 if i < s.len() => {
                            s.remove(i);
                        }
                        2 if i < s.len() => s[i] = c,
                        _ if i + 1 < s.len() => s.swap(i, i + 1),
                        _ => {}
                    }
                }
                parts.push(s.into_iter().collect());
            }
            let sep = *pick(&mut rng, &[".", "-", "", "."]);
            let mut name = parts.join(sep);
            let tld = pick(&mut rng, &tlds);
            if !tld.is_empty() {
                name.push('.');
                name.push_str(tld);
            }
            if rng.u64(..).is_multiple_of(10) {
                name = format!("*.{name}");
            }
            if rng.u64(..).is_multiple_of(20) {
                name = name.to_uppercase();
            }
            n += 1;
            let r = catch_unwind(AssertUnwindSafe(|| {
                Domain::parse(&name).ok().map(|d| m.check(&d).len())
            }));
            match r {
                Ok(Some(k)) => {
                    parsed += 1;
                    found += k as u64;
                }
                Ok(None) => {}
                Err(_) => {
                    panics += 1;
                    println!("PANIC {name:?}");
                }
            }
        }
    }
    eprintln!("{n} names, {parsed} parsed, {found} findings, {panics} panics");
    if panics > 0 {
        std::process::exit(1);
    }
}
