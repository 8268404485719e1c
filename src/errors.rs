//! Errors on one line: an error and its causes, as logs, alert dead-letters and `/readyz`
//! show them; and the certificate error a TLS failure holds, wherever in the chain.

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

/// A rustls certificate verification error anywhere in the chain. An `io::Error` wrapping
/// another error (tokio-rustls and hyper do, sometimes twice) skips it in `source()`, so the
/// wrapped error is looked at through `get_ref` instead.
pub fn certificate_error(e: &(dyn Error + 'static)) -> Option<String> {
    let is_cert = |r: &rustls::Error| {
        matches!(
            r,
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
        )
    };
    let mut cur = Some(e);
    while let Some(c) = cur {
        if let Some(r) = c.downcast_ref::<rustls::Error>()
            && is_cert(r)
        {
            return Some(r.to_string());
        }
        cur = match c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn Error + 'static)),
            None => c.source(),
        };
    }
    None
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
