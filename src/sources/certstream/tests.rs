use super::*;

fn names(p: Parsed) -> Vec<Observation> {
    match p {
        Parsed::Names(o) => o,
        other => panic!("expected names, got {other:?}"),
    }
}

#[test]
fn calidog_full_message_with_chain() {
    // The shape of CaliDog's server (data before message_type, issuer only in the chain).
    let text = r#"{"data":{"cert_index":343999487,"cert_link":"http://ct.example/ct/v1/get-entries?start=343999487&end=343999487",
            "chain":[{"fingerprint":"E6:A3","subject":{"C":"US","CN":"Let's Encrypt Authority X3","O":"Let's Encrypt","aggregated":"/C=US"}}],
            "leaf_cert":{"all_domains":["access.example.com","www.access.example.com"],"extensions":{"keyUsage":"x"},
            "fingerprint":"84:E0:18:01:52:93:08:E0:BC:1C:DA:C8:B4:48:64:76:8A:61:56:32","not_after":1589513741,"not_before":1581737741,
            "serial_number":"37A3","subject":{"CN":"access.example.com","O":null,"aggregated":"/CN=access.example.com"}},
            "seen":1581741558.477939,"source":{"name":"Google 'Argon2020' log","url":"ct.googleapis.com/logs/argon2020/"},
            "update_type":"X509LogEntry"},"message_type":"certificate_update"}"#;
    let o = names(parse_message(text, 7).unwrap());
    assert_eq!(o.len(), 2);
    assert_eq!(o[0].name, "access.example.com");
    assert_eq!(o[1].name, "www.access.example.com");
    assert_eq!(o[0].seen_ms, 1581741558477);
    assert_eq!(o[0].log.as_deref(), Some("Google 'Argon2020' log"));
    assert_eq!(o[0].index, Some(343999487));
    assert_eq!(o[0].issuer.as_deref(), Some("Let's Encrypt"));
    assert_eq!(
        o[0].cert_sha256, None,
        "a SHA-1 fingerprint is not a SHA-256"
    );
    assert!(o[0].dedup.is_some());
    assert_eq!(o[0].dedup, o[1].dedup);
}

#[test]
fn go_lite_message_with_issuer_and_sha256() {
    let sha = "AB".repeat(32);
    let text = format!(
        r#"{{"message_type":"certificate_update","data":{{"update_type":"PrecertLogEntry",
            "leaf_cert":{{"all_domains":["paypa1.com"],"issuer":{{"CN":"R11","O":null}},"sha256":"{sha}"}},
            "cert_index":5,"seen":1.5,"source":{{"name":"Log A","url":"https://a/"}}}}}}"#
    );
    let a = names(parse_message(&text, 0).unwrap());
    assert_eq!(a[0].issuer.as_deref(), Some("R11"));
    assert_eq!(a[0].cert_sha256.as_deref(), Some(&*"ab".repeat(32)));
    assert_eq!(a[0].seen_ms, 1500);
    // The same certificate from another log counts once.
    let other = text
        .replace("Log A", "Log B")
        .replace("\"cert_index\":5", "\"cert_index\":9");
    let b = names(parse_message(&other, 0).unwrap());
    assert_eq!(a[0].dedup, b[0].dedup);
}

#[test]
fn domains_only_heartbeat_and_unknown_types() {
    let o = names(
        parse_message(
            r#"{"message_type":"dns_entries","data":["a.com","","b.org"]}"#,
            42,
        )
        .unwrap(),
    );
    assert_eq!(
        o.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        ["a.com", "b.org"]
    );
    assert_eq!(o[0].seen_ms, 42);
    assert_eq!(o[0].dedup, None);
    assert!(matches!(
        parse_message(r#"{"message_type":"heartbeat","timestamp":1.0}"#, 0),
        Ok(Parsed::Heartbeat)
    ));
    assert!(matches!(
        parse_message(r#"{"message_type":"stats","data":{}}"#, 0),
        Ok(Parsed::Other(_))
    ));
}

#[test]
fn malformed_messages_are_errors() {
    for bad in [
        "",
        "not json",
        "[1,2]",
        r#"{"data":{}}"#,
        r#"{"message_type":"certificate_update","data":{"cert_index":1}}"#,
        r#"{"message_type":"certificate_update"}"#,
        r#"{"message_type":"certificate_update","data":[]}"#,
        r#"{"message_type":"certificate_update","data":{"leaf_cert":{}}}"#,
        r#"{"message_type":"certificate_update","data":{"leaf_cert":{"all_domains":[1]}}}"#,
        r#"{"message_type":"dns_entries","data":{"x":1}}"#,
        r#"{"message_type":"dns_entries","data":"a.com"}"#,
        r#"{"message_type":"certificate_update","data":{"leaf_cert":{"all_domains":["a.com"]},"cert_index":-1}}"#,
    ] {
        assert!(parse_message(bad, 0).is_err(), "{bad:?}");
    }
}

#[test]
fn hex_ids() {
    assert_eq!(hex_id("AB:cd:01").as_deref(), Some("abcd01"));
    assert_eq!(hex_id("xyz"), None);
    assert_eq!(hex_id(""), None);
}
