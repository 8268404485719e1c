//! Random hostile names near the shipped brands' terms and domains — confusables, invisible
//! marks, combining accents, `*.`, dots and hyphens, IDN suffixes, upper case — through
//! `Domain::parse` and `Matcher::check`, for longer than the property tests run. Prints each
//! name that panics and a summary.
//!
//!     cargo run --release --example hammer -- SECONDS SEED
use lookalike::{Domain, Matcher, watchlist};
use std::panic::{AssertUnwindSafe, catch_unwind};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
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
    let mut rng = Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1);
    let start = std::time::Instant::now();
    let (mut n, mut parsed, mut panics, mut found) = (0u64, 0u64, 0u64, 0u64);
    std::panic::set_hook(Box::new(|_| {}));
    while start.elapsed().as_secs() < secs {
        for _ in 0..1000 {
            let mut parts: Vec<String> = Vec::new();
            for _ in 0..(1 + rng.next() % 4) {
                let mut s: Vec<char> = if rng.next() % 3 == 0 {
                    rng.pick(&kws).chars().collect()
                } else {
                    rng.pick(&terms).chars().collect()
                };
                for _ in 0..(rng.next() % 4) {
                    let c = *rng.pick(&extra);
                    let i = (rng.next() as usize) % (s.len() + 1);
                    match rng.next() % 4 {
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
            let sep = *rng.pick(&[".", "-", "", "."]);
            let mut name = parts.join(sep);
            let tld = rng.pick(&tlds);
            if !tld.is_empty() {
                name.push('.');
                name.push_str(tld);
            }
            if rng.next() % 10 == 0 {
                name = format!("*.{name}");
            }
            if rng.next() % 20 == 0 {
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
