//! The member API's OpenAPI description (`GET /api/v1/openapi.json`): it is valid OpenAPI 3.x,
//! it lists exactly the operations the router serves, and a client that finds every URL in it
//! (by operation id, never a hard-coded path) drives a member's main path against a real server,
//! each JSON answer checked against the description's schema.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bisik::crypto::{envelope, token};
use common::*;
use serde_json::{Value, json};

/// One operation: (METHOD, full path as documented).
type Op = (String, String);

/// The methods an OpenAPI path item may hold (`query` is OpenAPI 3.2).
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The methods probed on each documented path for answers the description does not list.
const PROBED: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Every operation of a description.
fn documented(spec: &Value) -> BTreeSet<Op> {
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(*m).is_some() {
                ops.insert((m.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// What differs between the documented operations and those the router serves: operations
/// served without a description, and described ones that are not served. Empty when they match.
fn mismatches(documented: &BTreeSet<Op>, served: &BTreeSet<Op>) -> Vec<String> {
    let mut out: Vec<String> = served
        .difference(documented)
        .map(|(m, p)| format!("served but not documented: {m} {p}"))
        .collect();
    out.extend(
        documented
            .difference(served)
            .map(|(m, p)| format!("documented but not served: {m} {p}")),
    );
    out
}

/// A concrete URL path for a documented one (`{id}`, `{seq}` filled in).
fn fill(path: &str, params: &[(&str, &str)]) -> String {
    let mut out = path.to_owned();
    for (k, v) in params {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    assert!(!out.contains('{'), "unfilled parameter in {out}");
    out
}

async fn fetch_spec(router: &axum::Router) -> (Reply, Value) {
    let r = send(router, get("/api/v1/openapi.json")).await;
    let spec = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r, spec)
}

/// Every `$ref` in a JSON value.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                if k == "$ref" {
                    out.push(v.as_str().unwrap_or_default().to_owned());
                }
                refs(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// A JSON Schema validator for one schema of the description, its `#/components/schemas/…`
/// references resolved within the description.
fn validator(spec: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    let obj = root.as_object_mut().expect("a schema object");
    obj.insert(
        "$schema".into(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    obj.insert("components".into(), spec["components"].clone());
    jsonschema::validator_for(&root).expect("a valid JSON Schema")
}

/// Checks a JSON answer against the schema the description gives for `status` of an operation.
fn check_answer(spec: &Value, op: &Value, status: u16, body: &Value) {
    let responses = &op["responses"];
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
        .unwrap_or_else(|| panic!("no response {status} in {}", op["operationId"]));
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{}: no JSON schema for {status}",
        op["operationId"]
    );
    let v = validator(spec, schema);
    let errors: Vec<String> = v.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{} {status}: the answer does not match its schema: {errors:?}\n{body:#}",
        op["operationId"]
    );
}

#[tokio::test]
async fn the_spec_is_openapi_and_lists_exactly_the_routes_served() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _, _) = fx.router().await;

    // Served without a session, as JSON, with the usual security headers.
    let (r, spec) = fetch_spec(&router).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(r.headers[name], value, "header {name}");
    }
    assert!(r.headers.contains_key("content-security-policy"));

    // OpenAPI 3.x, with the bearer scheme, unique operation ids and every reference resolved.
    let version = spec["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "{version}");
    assert!(spec["info"]["title"].is_string() && spec["info"]["version"].is_string());
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut ids = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for m in METHODS {
            if let Some(op) = item.get(*m) {
                let id = op["operationId"].as_str().expect("operationId");
                assert!(ids.insert(id.to_owned()), "operation id {id} twice");
                assert!(op["responses"]["200"].is_object(), "{id}: no 200 answer");
                assert!(op["responses"]["default"].is_object(), "{id}: no errors");
                for name in path
                    .split('/')
                    .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                {
                    let declared = op["parameters"].as_array().is_some_and(|ps| {
                        ps.iter().any(|p| p["name"] == name && p["in"] == "path")
                    });
                    assert!(declared, "{id}: path parameter {name} not described");
                }
            }
        }
    }
    let mut all_refs = Vec::new();
    refs(&spec, &mut all_refs);
    assert!(!all_refs.is_empty());
    for r in &all_refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(
            spec["components"]["schemas"][name].is_object(),
            "{r} does not resolve"
        );
        // Each schema is a valid JSON Schema (2020-12, as OpenAPI 3.1 uses).
        validator(&spec, &json!({ "$ref": r }));
    }

    // Nothing about citizens or this deployment: the description is the same on any server.
    let text = r.text();
    let member_key = fx.identity("health-triage").to_public().to_string();
    for secret in [
        &member_key[..],
        "AGE-SECRET-KEY",
        "health-triage",
        "Example City",
    ] {
        assert!(!text.contains(secret), "the description mentions {secret}");
    }

    // What the router really serves: each documented operation answers (asking for the bearer
    // token exactly when the description says so), and no other method answers on a
    // documented path.
    let docs = documented(&spec);
    let mut served = BTreeSet::new();
    let params = [("id", "C-NOSUCHCASE"), ("seq", "1")];
    for (path, item) in spec["paths"].as_object().unwrap() {
        let url = fill(path, &params);
        for method in PROBED {
            let req = Request::builder()
                .method(Method::from_bytes(method.as_bytes()).unwrap())
                .uri(&url)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let r = send(&router, req).await;
            let op = item.get(method.to_ascii_lowercase());
            if r.status == StatusCode::METHOD_NOT_ALLOWED || r.status == StatusCode::NOT_FOUND {
                assert!(op.is_none(), "{method} {url}: {} {}", r.status, r.text());
                continue;
            }
            served.insert((method.to_string(), path.clone()));
            let Some(op) = op else { continue };
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            assert_eq!(
                r.status == StatusCode::UNAUTHORIZED,
                secured,
                "{method} {url}: {} (security {})",
                r.status,
                op["security"]
            );
            if r.status != StatusCode::OK {
                let body: Value = serde_json::from_slice(&r.body).unwrap();
                check_answer(&spec, op, r.status.as_u16(), &body);
            }
        }
    }
    // A path the description does not name is the API's JSON 404, in the documented shape.
    let r = send(&router, get("/api/v1/cases/C-1/secret-door")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["error"], "not_found");

    let problems = mismatches(&docs, &served);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(docs.contains(&("GET".into(), "/api/v1/openapi.json".into())));
    assert!(docs.len() >= 40, "{} operations", docs.len());
}

/// Paths the probe cannot reach (a route at a path the description does not name) are kept out
/// by construction: the `/api/v1` router is built only from `routes!(handler)`, which takes path
/// and methods from the handler's `#[utoipa::path]`. This keeps it that way.
#[test]
fn the_api_router_mounts_nothing_but_documented_handlers() {
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/src/web/api/openapi.rs")).unwrap();
    let start = src.find("pub fn router()").expect("the router builder");
    let end = start + src[start..].find("\n}\n").expect("its end");
    let body = &src[start..end];
    for undocumented in [
        ".route(",
        ".route_service(",
        ".nest_service(",
        ".merge(",
        ".fallback_service(",
    ] {
        assert!(
            !body.contains(undocumented),
            "the /api/v1 router must mount routes only with routes!(…): found {undocumented}"
        );
    }
    assert_eq!(body.matches(".nest(").count(), 1, "only the /api/v1 prefix");
    let web = std::fs::read_to_string(format!("{root}/src/web/mod.rs")).unwrap();
    assert!(
        !web.contains("\"/api"),
        "src/web/mod.rs mounts an /api route outside api::openapi::router"
    );
}

/// The comparison can fail: a route served without a description, or a description of a route
/// that is not served, is reported.
#[test]
fn an_undocumented_route_fails_the_check() {
    let op = |m: &str, p: &str| (m.to_owned(), p.to_owned());
    let docs: BTreeSet<Op> = [op("GET", "/api/v1/cases"), op("POST", "/api/v1/session")].into();
    assert!(mismatches(&docs, &docs).is_empty());

    let mut served = docs.clone();
    served.insert(op("POST", "/api/v1/cases/{id}/secret-door"));
    assert_eq!(
        mismatches(&docs, &served),
        ["served but not documented: POST /api/v1/cases/{id}/secret-door"]
    );

    let mut served = docs.clone();
    served.remove(&op("GET", "/api/v1/cases"));
    assert_eq!(
        mismatches(&docs, &served),
        ["documented but not served: GET /api/v1/cases"]
    );

    // A method added on a documented path is caught the same way.
    let mut served = docs.clone();
    served.insert(op("DELETE", "/api/v1/cases"));
    assert_eq!(mismatches(&docs, &served).len(), 1);
}

/// A member client written from the description: it finds each operation by its id and
/// checks each answer against the operation's schema.
struct SpecClient {
    base: String,
    spec: Value,
    agent: ureq::Agent,
    token: Option<String>,
}

impl SpecClient {
    /// The method, path and description of an operation, by id.
    fn operation(&self, id: &str) -> (String, String, Value) {
        for (path, item) in self.spec["paths"].as_object().unwrap() {
            for m in METHODS {
                if let Some(op) = item.get(*m)
                    && op["operationId"] == id
                {
                    return (m.to_ascii_uppercase(), path.clone(), op.clone());
                }
            }
        }
        panic!("no operation {id} in the description")
    }

    /// Calls an operation; returns its status and JSON answer, checked against the schema.
    fn call(&self, id: &str, params: &[(&str, &str)], body: Option<&Value>) -> (u16, Value) {
        let (method, path, op) = self.operation(id);
        let url = format!("{}{}", self.base, fill(&path, params));
        let mut req = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(&url);
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if secured && let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let res = match body {
            Some(b) => {
                assert!(
                    op["requestBody"]["content"]["application/json"].is_object(),
                    "{id} takes no JSON body"
                );
                let req = req
                    .header("content-type", "application/json")
                    .body(b.to_string())
                    .unwrap();
                self.agent.run(req)
            }
            None => self.agent.run(req.body(()).unwrap()),
        };
        let mut res = res.unwrap();
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string().unwrap();
        let json: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{id}: not JSON ({e}): {text}"));
        check_answer(&self.spec, &op, status, &json);
        (status, json)
    }

    /// Calls an operation that must succeed.
    fn ok(&self, id: &str, params: &[(&str, &str)], body: Option<&Value>) -> Value {
        let (status, json) = self.call(id, params, body);
        assert_eq!(status, 200, "{id}: {json}");
        json
    }
}

/// Seals a document to every recipient the API listed.
fn seal(recipients: &Value, doc: &Value) -> String {
    let keys: Vec<bisik::crypto::keys::Recipient> = recipients["readers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(std::iter::once(&recipients["reporter"]))
        .map(|r| r.as_str().unwrap().parse().unwrap())
        .collect();
    token::encode(&envelope::seal(&keys, doc.to_string().as_bytes()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_written_from_the_spec_drives_the_member_main_path() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _, _) = fx.router().await;
    // A citizen reports to the health office through the real router.
    let (_, case_id) = submit(&router, &[]).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    let identity = fx.identity("health-triage");

    tokio::task::spawn_blocking(move || {
        let agent = loopback_agent();
        // The description itself is the one fixed URL a client needs.
        let mut res = agent
            .get(format!("{base}/api/v1/openapi.json"))
            .call()
            .unwrap();
        assert_eq!(res.status(), 200);
        let spec: Value = serde_json::from_str(&res.body_mut().read_to_string().unwrap()).unwrap();
        let mut client = SpecClient {
            base,
            spec,
            agent,
            token: None,
        };

        // Log in: the challenge is sealed to the member's key; the answer is its plaintext.
        let c = client.ok(
            "challenge",
            &[],
            Some(&json!({ "recipient": identity.to_public().to_string() })),
        );
        let sealed = token::decode(c["challenge"].as_str().unwrap()).unwrap();
        let secret = envelope::open(&identity, &sealed).unwrap();
        let s = client.ok(
            "session",
            &[],
            Some(&json!({ "challenge_id": c["challenge_id"], "response": token::encode(&secret) })),
        );
        assert_eq!(
            (s["handle"].as_str(), s["institution"].as_str()),
            (Some("health-triage"), Some("health"))
        );
        client.token = Some(s["token"].as_str().unwrap().to_owned());

        // Without the token, a member route answers 401 in the documented error shape.
        let token = client.token.take();
        let (status, e) = client.call("list", &[], None);
        assert_eq!((status, e["error"].as_str()), (401, Some("unauthorized")));
        client.token = token;

        // The case list holds the citizen's case; its content opens with the member's key.
        let list = client.ok("list", &[], None);
        let ids: Vec<&str> = list["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&case_id.as_str()), "{ids:?}");
        let case = client.ok("show", &[("id", &case_id)], None);
        assert_eq!(case["case"]["state"], "received");
        let content = envelope::open(
            &identity,
            &token::decode(case["content"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        let content: Value = serde_json::from_slice(&content).unwrap();
        assert_eq!(content["title"], "Clinic asks for illegal fees");

        // Reply: sealed on this machine to the readers and the reporter the API names.
        let recipients = client.ok("recipients", &[("id", &case_id)], None);
        let doc = json!({"type": "bisik.message", "version": 1, "author": "health-triage",
                         "body": "We are looking into it.", "written_on": "2026-11-23"});
        client.ok(
            "reply",
            &[("id", &case_id)],
            Some(&json!({ "envelope": seal(&recipients, &doc) })),
        );

        // Change the state, and see both in the case.
        client.ok(
            "set_state",
            &[("id", &case_id)],
            Some(&json!({ "state": "verified" })),
        );
        let case = client.ok("show", &[("id", &case_id)], None);
        assert_eq!(case["case"]["state"], "verified");
        let messages = case["messages"].as_array().unwrap();
        let last = messages.last().expect("the reply");
        let text = envelope::open(
            &identity,
            &token::decode(last["envelope"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        assert!(String::from_utf8_lossy(&text).contains("We are looking into it."));

        // Log out: the token stops working.
        client.ok("logout", &[], None);
        let (status, _) = client.call("list", &[], None);
        assert_eq!(status, 401);
    })
    .await
    .unwrap();
    server.abort();
}

/// The schema check can fail too: an answer missing a required field, or with a field of the
/// wrong type, is refused.
#[test]
fn a_wrong_answer_fails_the_schema_check() {
    let spec: Value = serde_json::from_str(bisik::web::api::openapi::spec_json()).unwrap();
    let v = validator(
        &spec,
        &json!({ "$ref": "#/components/schemas/CaseListResponse" }),
    );
    let case = json!({"id": "C-1", "institution": "health", "kind": "complaint",
                      "category": null, "privacy": "anonymous", "state": "received",
                      "received_on": "2026-11-23"});
    assert!(v.is_valid(&json!({ "cases": [case.clone()] })));
    let mut missing = case.clone();
    missing.as_object_mut().unwrap().remove("state");
    assert!(!v.is_valid(&json!({ "cases": [missing] })));
    let mut wrong = case;
    wrong["id"] = json!(7);
    assert!(!v.is_valid(&json!({ "cases": [wrong] })));
    assert!(!v.is_valid(&json!({ "case": [] })));
}
