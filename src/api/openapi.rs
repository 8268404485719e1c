//! The OpenAPI 3.1 description of the API, served at `/api/v1/openapi.json`. Written by hand
//! beside the routes; a test holds the two together (every route documented, and, in
//! `tests/it/api.rs`, every documented route answering).

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::finding::Technique;
use crate::store::{DomainState, TriageStatus};

/// The document, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn text_response(description: &str, content_type: &str) -> Value {
    json!({
        "description": description,
        "content": {content_type: {"schema": {"type": "string"}}}
    })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn path_param(name: &str, description: &str, example: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": "string"}, "example": example})
}

fn build() -> Value {
    let statuses: Vec<&str> = TriageStatus::ALL.iter().map(|s| s.as_str()).collect();
    let techniques: Vec<&str> = Technique::ALL.iter().map(|t| t.name()).collect();
    let states: Vec<&str> = DomainState::ALL.iter().map(|s| s.as_str()).collect();
    let formats: Vec<&str> = crate::export::Document::all()
        .map(crate::export::Document::name)
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "lookalike API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Findings of brand-impersonation domains, their triage, blocklists and the service's health. With a token configured ([api] token_env or token_file), every endpoint but /healthz wants `Authorization: Bearer <token>`. Every response carries `X-Lookalike-Instance`; a request naming another instance there gets 409.",
            "license": {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"}
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "security": [{}, {"bearer": []}],
        "paths": paths(&statuses, &techniques, &states, &formats),
        "components": components(&statuses, &techniques, &states),
    })
}

fn paths(statuses: &[&str], techniques: &[&str], states: &[&str], formats: &[&str]) -> Value {
    let unauthorized = error_response("No or a wrong bearer token (when one is configured).");
    let mut paths = serde_json::Map::new();
    paths.insert("/api/v1/findings".into(), json!({"get": {
                "operationId": "listFindings",
                "summary": "Findings, newest first, a page at a time",
                "parameters": [
                    query("brand", "A brand's name (case-insensitive)", json!({"type": "string"})),
                    query("status", "Triage status", json!({"type": "string", "enum": statuses})),
                    query("min_score", "Lowest score", json!({"type": "integer", "minimum": 0, "maximum": 255})),
                    query("since", "First seen at or after: RFC 3339, a date, or a duration back from now (24h, 7d)", json!({"type": "string"})),
                    query("technique", "A technique the finding lists", json!({"type": "string", "enum": techniques})),
                    query("state", "Enrichment state", json!({"type": "string", "enum": states})),
                    query("mail_ready", "Only mail-ready domains", json!({"type": "boolean"})),
                    query("limit", "Page size", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100})),
                    query("cursor", "`next` of the previous page", json!({"type": "string"})),
                ],
                "responses": {
                    "200": json_response("A page of findings", json!({
                        "type": "object", "required": ["findings", "next"],
                        "properties": {
                            "findings": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                            "next": {"type": ["string", "null"], "description": "The cursor of the next page; null on the last"}
                        }
                    })),
                    "400": error_response("A parameter is not valid."),
                    "401": unauthorized,
                }
            }}));
    paths.insert("/api/v1/findings/{domain}".into(), json!({"get": {
                "operationId": "getFinding",
                "summary": "Every finding of a registrable domain (any subdomain or Unicode form works)",
                "parameters": [path_param("domain", "A domain name", "paypa1-login.com")],
                "responses": {
                    "200": json_response("The domain's findings, one per brand", json!({
                        "type": "object", "required": ["domain", "findings"],
                        "properties": {
                            "domain": {"type": "string", "description": "The registrable domain (A-label)"},
                            "findings": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}}
                        }
                    })),
                    "401": unauthorized,
                    "404": error_response("No finding for this domain."),
                }
            }}));
    paths.insert("/api/v1/findings/{domain}/triage".into(), json!({"post": {
                "operationId": "triageFinding",
                "summary": "Record a triage decision (blocklists follow)",
                "parameters": [path_param("domain", "A domain name", "paypa1-login.com")],
                "requestBody": {
                    "required": true,
                    "description": "Read as JSON whatever the Content-Type says.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TriageRequest"}}}
                },
                "responses": {
                    "200": json_response("The findings updated", json!({
                        "type": "object", "required": ["updated"],
                        "properties": {"updated": {"type": "array", "items": {
                            "type": "object",
                            "properties": {
                                "registrable": {"type": "string"},
                                "brand": {"type": "string"},
                                "status": {"$ref": "#/components/schemas/TriageStatus"},
                                "history": {"type": "array", "items": {"$ref": "#/components/schemas/TriageEvent"}}
                            }
                        }}}
                    })),
                    "400": error_response("The body is not a triage object, or the note is too long."),
                    "401": unauthorized,
                    "404": error_response("No finding for this domain (and brand)."),
                    "413": error_response("The body is over 64 KiB."),
                }
            }}));
    paths.insert("/api/v1/brands".into(), json!({"get": {
                "operationId": "listBrands",
                "summary": "The brands in force",
                "responses": {
                    "200": json_response("The watchlists' brands", json!({
                        "type": "object", "required": ["brands"],
                        "properties": {"brands": {"type": "array", "items": {"$ref": "#/components/schemas/Brand"}}}
                    })),
                    "401": unauthorized,
                }
            }}));
    paths.insert("/api/v1/outbox".into(), json!({"get": {
                "operationId": "listOutbox",
                "summary": "Alerts waiting for delivery, and dead letters",
                "responses": {
                    "200": json_response("The outbox", json!({
                        "type": "object", "required": ["deliveries"],
                        "properties": {"deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}}}
                    })),
                    "401": unauthorized,
                }
            }}));
    paths.insert(
        "/api/v1/openapi.json".into(),
        json!({"get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
                "200": json_response("OpenAPI 3.1", json!({"type": "object"})),
                "401": unauthorized,
            }
        }}),
    );
    paths.insert("/blocklist/{format}".into(), json!({"get": {
                "operationId": "blocklist",
                "summary": "A blocklist (text) or the STIX bundle, with ETag and Last-Modified",
                "parameters": [
                    {"name": "format", "in": "path", "required": true, "schema": {"type": "string", "enum": formats}, "example": "plain"},
                    {"name": "If-None-Match", "in": "header", "required": false, "schema": {"type": "string"}},
                    {"name": "If-Modified-Since", "in": "header", "required": false, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "The list",
                        "headers": {
                            "ETag": {"schema": {"type": "string"}},
                            "Last-Modified": {"schema": {"type": "string"}}
                        },
                        "content": {"text/plain": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}}
                    },
                    "304": {"description": "Not changed since"},
                    "401": unauthorized,
                    "404": error_response("No such format."),
                }
            }}));
    paths.insert("/feeds/misp/{file}".into(), json!({"get": {
                "operationId": "mispFeed",
                "summary": "The MISP feed: manifest.json, hashes.csv, <uuid>.json",
                "parameters": [path_param("file", "A file of the feed", "manifest.json")],
                "responses": {
                    "200": {
                        "description": "The file, with an ETag",
                        "content": {"application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}
                    },
                    "304": {"description": "Not changed since"},
                    "401": unauthorized,
                    "404": error_response("No such file in the feed."),
                }
            }}));
    paths.insert(
        "/metrics".into(),
        json!({"get": {
            "operationId": "metrics",
            "summary": "Prometheus (OpenMetrics) text",
            "responses": {
                "200": text_response("The metrics", "application/openmetrics-text"),
                "401": unauthorized,
            }
        }}),
    );
    paths.insert(
        "/healthz".into(),
        json!({"get": {
            "operationId": "healthz",
            "summary": "`ok` while the process runs (no token needed)",
            "security": [],
            "responses": {"200": text_response("ok", "text/plain")}
        }}),
    );
    paths.insert("/readyz".into(), json!({"get": {
                "operationId": "readyz",
                "summary": "Whether the pipeline turns and a source is reachable",
                "responses": {
                    "200": json_response("Ready", json!({"$ref": "#/components/schemas/Ready"})),
                    "401": unauthorized,
                    "503": json_response("Not ready, and why", json!({"$ref": "#/components/schemas/Ready"})),
                }
            }}));
    Value::Object(paths)
}

fn components(statuses: &[&str], techniques: &[&str], states: &[&str]) -> Value {
    json!({
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            "TriageStatus": {"type": "string", "enum": statuses},
            "Technique": {"type": "string", "enum": techniques},
            "TriageRequest": {
                "type": "object", "required": ["status"], "additionalProperties": false,
                "properties": {
                    "status": {"$ref": "#/components/schemas/TriageStatus"},
                    "note": {"type": "string", "maxLength": crate::store::MAX_NOTE_BYTES},
                    "brand": {"type": "string", "description": "When the domain matched several brands"},
                    "by": {"type": "string", "description": "Who decides (default: api)"}
                }
            },
            "TriageEvent": {
                "type": "object", "required": ["status", "by", "at"],
                "properties": {
                    "status": {"$ref": "#/components/schemas/TriageStatus"},
                    "note": {"type": "string"},
                    "by": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"}
                }
            },
            "Sighting": {
                "type": "object", "required": ["source", "name", "seen"],
                "properties": {
                    "source": {"type": "string", "description": "ct, certstream, nrd or scan"},
                    "name": {"type": "string"},
                    "seen": {"type": "string", "format": "date-time"},
                    "log": {"type": "string"},
                    "index": {"type": "integer", "minimum": 0},
                    "cert_sha256": {"type": "string"},
                    "issuer": {"type": "string"},
                    "not_before": {"type": "string", "format": "date-time"},
                    "not_after": {"type": "string", "format": "date-time"}
                }
            },
            "Hit": {
                "type": "object",
                "description": "A finding (schema 1) with its sightings, triage and enrichment.",
                "required": ["schema", "domain", "unicode", "registrable", "brand", "term", "techniques", "score", "reasons", "first_seen", "last_seen", "count", "sources", "status"],
                "properties": {
                    "schema": {"type": "integer", "const": crate::finding::SCHEMA_VERSION},
                    "domain": {"type": "string", "description": "The name seen (A-label)"},
                    "unicode": {"type": "string", "description": "The name seen (U-label)"},
                    "registrable": {"type": "string"},
                    "brand": {"type": "string"},
                    "term": {"type": "string"},
                    "techniques": {"type": "array", "items": {"$ref": "#/components/schemas/Technique"}},
                    "score": {"type": "integer", "minimum": 0, "maximum": 100},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "first_seen": {"type": "string", "format": "date-time"},
                    "last_seen": {"type": "string", "format": "date-time"},
                    "count": {"type": "integer", "minimum": 0},
                    "sources": {"type": "array", "items": {"$ref": "#/components/schemas/Sighting"}},
                    "status": {"$ref": "#/components/schemas/TriageStatus"},
                    "triage": {"type": "object", "properties": {
                        "status": {"$ref": "#/components/schemas/TriageStatus"},
                        "history": {"type": "array", "items": {"$ref": "#/components/schemas/TriageEvent"}}
                    }},
                    "state": {"type": "string", "enum": states},
                    "enriched_score": {"type": "integer", "minimum": 0, "maximum": 100},
                    "enrichment": {"type": "object", "description": "DNS, mail, RDAP and web lookups (see the README)"}
                }
            },
            "Brand": {
                "type": "object", "required": ["name", "domains", "terms", "keywords"],
                "properties": {
                    "name": {"type": "string"},
                    "domains": {"type": "array", "items": {"type": "string"}},
                    "terms": {"type": "array", "items": {"type": "string"}},
                    "keywords": {"type": "array", "items": {"type": "string"}},
                    "country": {"type": ["string", "null"], "description": "the country the brand serves, as its two-letter TLD; null: every country"},
                    "min_score": {"type": ["integer", "null"]},
                    "notify": {"type": "array", "items": {"type": "string"}},
                    "origin": {}
                }
            },
            "Delivery": {
                "type": "object", "required": ["id", "alert", "state", "attempts", "next_attempt_ms", "created"],
                "properties": {
                    "id": {"type": "integer", "minimum": 0},
                    "alert": {"type": "object"},
                    "state": {"type": "string", "enum": ["pending", "dead"]},
                    "attempts": {"type": "integer", "minimum": 0},
                    "next_attempt_ms": {"type": "integer", "minimum": 0},
                    "last_error": {"type": "string"},
                    "created": {"type": "string", "format": "date-time"}
                }
            },
            "Ready": {
                "type": "object", "required": ["ready", "unreachable"],
                "properties": {
                    "ready": {"type": "boolean"},
                    "error": {"type": ["string", "null"]},
                    "unreachable": {"type": "array", "items": {"type": "string"}}
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The routes `api::router` declares: (method, path), read from its source, so that a
    /// route added there without a description here fails this test.
    fn declared_routes() -> Vec<(String, String)> {
        let source = include_str!("mod.rs");
        let mut out = Vec::new();
        for line in source.lines() {
            let Some(rest) = line.trim().strip_prefix(".route(\"") else {
                continue;
            };
            let Some((path, handler)) = rest.split_once('"') else {
                continue;
            };
            for method in ["get", "post", "put", "delete", "patch"] {
                if handler.contains(&format!(" {method}("))
                    || handler.contains(&format!(".{method}("))
                {
                    out.push((method.to_owned(), path.to_owned()));
                }
            }
        }
        out
    }

    #[test]
    fn every_route_is_documented_and_nothing_else() {
        let doc = document();
        let routes = declared_routes();
        assert!(routes.len() >= 10, "{routes:?}");
        for (method, path) in &routes {
            assert!(
                doc["paths"][path][method].is_object(),
                "{} {path} is not in the OpenAPI document",
                method.to_uppercase()
            );
        }
        let paths = doc["paths"].as_object().unwrap();
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                assert!(
                    routes.iter().any(|(m, p)| m == method && p == path),
                    "{method} {path} is documented but not routed"
                );
            }
        }
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
