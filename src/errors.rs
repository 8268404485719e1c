//! Errors on one line: an error and its causes, as logs, alert dead-letters and `/readyz`
//! show them.

use std::error::Error;

/// The error and its causes on one line, each said once ("error sending request: connection
/// refused"): a cause whose text its error already includes is not repeated.
pub fn chain(e: &dyn Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use std::fmt;

    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);

    impl fmt::Display for E {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for E {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn causes_follow_once() {
        let e = E(
            "error sending request",
            Some(Box::new(E(
                "connection refused",
                Some(Box::new(E("refused", None))),
            ))),
        );
        assert_eq!(
            super::chain(&e),
            "error sending request: connection refused"
        );
        assert_eq!(super::chain(&E("alone", None)), "alone");
    }
}
