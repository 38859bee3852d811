//! The approval service under attack, over HTTP on 127.0.0.1: forged and tampered links,
//! expiry, replays, racing decisions, GETs on the decision URL, CSRF, retired keys, the wrong
//! approver and script injection. Each refused attempt changes nothing (no task token answered,
//! the approval record as it was) and leaves an audit record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use dqc_activities::approval::{Change, Keyring, Link, LinkSigner, Review, ReviewRule, SignedLink, SCOPE};
use dqc_activities::{ArtifactStore, Error, MetadataStore, TaskTokens};
use dqc_approvals::{router, Approvals, AUDIT_PK};
use serde_json::{json, Value};

const TABLE: &str = "shop.orders";
const HASH: &str = "sha256:0123abcd";
const NOW: i64 = 1_800_000_000;

/// Task tokens that record every answer.
#[derive(Default)]
struct Recorded(Mutex<Vec<(String, Value)>>);

impl TaskTokens for Recorded {
    fn send_success(&self, token: &str, output: &Value) -> Result<(), Error> {
        self.0.lock().unwrap().push((token.to_owned(), json!({"success": output})));
        Ok(())
    }

    fn send_failure(&self, token: &str, error: &str, cause: &str) -> Result<(), Error> {
        self.0.lock().unwrap().push((token.to_owned(), json!({"failure": error, "cause": cause})));
        Ok(())
    }
}

fn key(byte: u8) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([byte; 32])
}

fn keyring(current: &str, ids: &[&str]) -> Keyring {
    Keyring {
        current: current.to_owned(),
        keys: ids.iter().map(|id| ((*id).to_owned(), key(id.as_bytes()[1]))).collect::<BTreeMap<_, _>>(),
    }
}

struct Service {
    url: String,
    metadata: Arc<dqc_local::FolderMetadata>,
    tokens: Arc<Recorded>,
    clock: Arc<AtomicI64>,
    _runtime: tokio::runtime::Runtime,
}

fn review() -> Review {
    Review {
        table: TABLE.into(),
        contract_hash: HASH.into(),
        previous_hash: None,
        source: "contract shop.orders {\n  -- </pre><script>alert('contract')</script>\n}\n".into(),
        previous_source: None,
        diff: String::new(),
        rules: vec![ReviewRule {
            id: "status_values".into(),
            change: Change::Added,
            description: "status must be one of '<img src=x onerror=alert(1)>'".into(),
            previous: None,
            severity: "error".into(),
            because: Some("<script>alert('because')</script>".into()),
            violations: Some(3),
            status: Some("fail".into()),
        }],
        backtest_rows: 10,
        backtest_run_time: "2024-03-01 06:00:00".into(),
        diagram: "erDiagram\n  ORDERS { string status }\n".into(),
        tests_sql: "SELECT 1".into(),
    }
}

/// The service over fresh folders, keyed by `ring`, with one pending approval for Ann.
fn service(name: &str, ring: Keyring) -> Service {
    let dir = std::env::temp_dir().join(format!("dqc-approvals-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let metadata = Arc::new(dqc_local::FolderMetadata::new(dir.join("metadata")));
    let store = Arc::new(dqc_local::FolderStore::new(dir.join("artifacts")));
    let review_key = "onboarding/shop.orders/review-0123abcd.json";
    store.put(review_key, serde_json::to_string(&review()).unwrap().as_bytes()).unwrap();
    metadata
        .put(
            "table#shop.orders",
            &format!("approval#{HASH}"),
            &json!({"status": "pending", "table": TABLE, "contract_hash": HASH, "approvers": ["ann@example.com"],
                    "task_token": "token-1", "deadline": NOW + 7 * 86400, "review_key": review_key,
                    "requester": "the onboarding workflow", "execution": "exec-1"}),
        )
        .unwrap();
    let tokens = Arc::new(Recorded::default());
    let clock = Arc::new(AtomicI64::new(NOW));
    let c = Arc::clone(&clock);
    let state = Arc::new(Approvals {
        metadata: Arc::clone(&metadata) as Arc<dyn MetadataStore + Send + Sync>,
        store: store as Arc<dyn ArtifactStore + Send + Sync>,
        tokens: Arc::clone(&tokens) as Arc<dyn TaskTokens + Send + Sync>,
        keyring: ring,
        clock: Arc::new(move || c.load(Ordering::SeqCst)),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, router(state)).await });
    Service { url, metadata, tokens, clock, _runtime: runtime }
}

fn signer(ring: &Keyring) -> LinkSigner {
    LinkSigner { base_url: String::new(), keyring: ring.clone(), ttl_seconds: 86400 }
}

fn link_for(ring: &Keyring, approver: &str) -> String {
    signer(ring).link(TABLE, HASH, approver, NOW)
}

struct Answer {
    status: u16,
    body: String,
    headers: reqwest::header::HeaderMap,
}

fn get(s: &Service, path: &str) -> Answer {
    let url = format!("{}{path}", s.url);
    s._runtime.block_on(async {
        let r = reqwest::Client::new().get(url).send().await.unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        Answer { status, headers, body: r.text().await.unwrap() }
    })
}

fn post(s: &Service, path: &str, form: &[(String, String)], cookie: Option<&str>) -> Answer {
    let url = format!("{}{path}", s.url);
    s._runtime.block_on(async {
        let mut request = reqwest::Client::new().post(url).header("content-type", "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let r = request.body(body).send().await.unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        Answer { status, headers, body: r.text().await.unwrap() }
    })
}

/// The page's hidden fields and its CSRF cookie.
fn open(s: &Service, link: &str) -> (Vec<(String, String)>, String) {
    let page = get(s, link);
    assert_eq!(page.status, 200, "{}", page.body);
    let cookie = page.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let mut fields = Vec::new();
    for part in page.body.split("<input type=\"hidden\" name=\"").skip(1).take(6) {
        let (name, rest) = part.split_once("\" value=\"").unwrap();
        let value = rest.split('"').next().unwrap();
        fields.push((name.to_owned(), value.replace("&amp;", "&").replace("&#39;", "'").replace("&quot;", "\"")));
    }
    (fields, cookie)
}

fn decision_path() -> String {
    "/approvals/shop.orders/sha256:0123abcd/decision".into()
}

fn with(fields: &[(String, String)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = fields.to_vec();
    for (k, v) in extra {
        out.retain(|(n, _)| n != k);
        out.push(((*k).to_owned(), (*v).to_owned()));
    }
    out
}

fn record(s: &Service) -> Value {
    s.metadata.get("table#shop.orders", &format!("approval#{HASH}")).unwrap().unwrap()
}

fn audits(s: &Service) -> Vec<Value> {
    s.metadata.query(AUDIT_PK, "").unwrap().into_iter().map(|(_, v)| v).collect()
}

/// Runs `attempt`; asserts it was refused with `status`, changed nothing, and was audited as `reason`.
fn refused(s: &Service, status: u16, reason: &str, attempt: impl FnOnce() -> Answer) -> Answer {
    let (before, audited) = (record(s), audits(s).len());
    let with_reason = count(&audits(s), reason);
    let answer = attempt();
    assert_eq!(answer.status, status, "{}", answer.body);
    assert!(answer.body.contains("Nothing changed"), "{}", answer.body);
    assert!(s.tokens.0.lock().unwrap().is_empty(), "no task token may be answered");
    assert_eq!(record(s), before, "the approval record is unchanged");
    let after = audits(s);
    assert_eq!(after.len(), audited + 1, "one audit record");
    assert_eq!(count(&after, reason), with_reason + 1, "audited as {reason}: {after:?}");
    answer
}

fn count(audits: &[Value], reason: &str) -> usize {
    audits.iter().filter(|a| a["reason"] == reason).count()
}

#[test]
fn forged_and_tampered_links_are_refused() {
    let ring = keyring("k1", &["k1"]);
    let s = service("tamper", ring.clone());
    let good = link_for(&ring, "ann@example.com");
    // A signature made up, and one made with another key under the same id.
    let forged = good.rsplit_once("sig=").unwrap().0.to_owned() + "sig=" + &key(9);
    refused(&s, 403, "bad_signature", || get(&s, &forged));
    let other = keyring("k1", &["k1"]);
    let mut other = other;
    other.keys.insert("k1".into(), key(200));
    refused(&s, 403, "bad_signature", || get(&s, &link_for(&other, "ann@example.com")));
    // Every field of the link, changed in turn.
    let swaps = [
        ("shop.orders/", "shop.orderz/"),
        ("sha256%3A0123abcd?", "sha256%3A0123abce?"),
        ("approver=ann%40example.com", "approver=bob%40example.com"),
        ("scope=decide", "scope=admin"),
        (&format!("expires={}", NOW + 86400), &format!("expires={}", NOW + 86400 * 30)),
        ("kid=k1", "kid=k0"),
    ];
    for (from, to) in swaps {
        assert!(good.contains(from), "{from} in {good}");
        let tampered = good.replacen(from, to, 1);
        let expected = if from.starts_with("kid") { "retired_key" } else { "bad_signature" };
        let audits_before = audits(&s);
        let before = audits_before.len();
        let answer = get(&s, &tampered);
        assert_eq!(answer.status, 403, "{from}: {}", answer.body);
        assert!(s.tokens.0.lock().unwrap().is_empty());
        let after = audits(&s);
        assert_eq!(after.len(), before + 1, "{from}");
        assert_eq!(count(&after, expected), count(&audits_before, expected) + 1, "{from}: {after:?}");
    }
    // Tampering with the form of a real page is refused the same way.
    let (fields, cookie) = open(&s, &good);
    refused(&s, 403, "bad_signature", || {
        post(
            &s,
            &decision_path(),
            &with(&fields, &[("approver", "mallory@example.com"), ("decision", "approve")]),
            Some(&cookie),
        )
    });
    refused(&s, 403, "bad_signature", || {
        post(&s, &decision_path(), &with(&fields, &[("expires", "9999999999"), ("decision", "approve")]), Some(&cookie))
    });
}

#[test]
fn expired_links_retired_keys_and_the_wrong_approver_are_refused() {
    let ring = keyring("k2", &["k1", "k2"]);
    let s = service("expiry", ring.clone());
    // Signed with k1 while it was current: valid as long as k1 is in the keyring.
    let old = signer(&keyring("k1", &["k1"])).link(TABLE, HASH, "ann@example.com", NOW);
    assert_eq!(get(&s, &old).status, 200);
    let retired = service("retired", keyring("k2", &["k2"]));
    refused(&retired, 403, "retired_key", || get(&retired, &old));

    let mallory = link_for(&ring, "mallory@example.com");
    refused(&s, 403, "wrong_approver", || get(&s, &mallory));
    let anyone = link_for(&ring, "*");
    refused(&s, 403, "wrong_approver", || get(&s, &anyone));

    let link = link_for(&ring, "ann@example.com");
    let (fields, cookie) = open(&s, &link);
    s.clock.store(NOW + 86400, Ordering::SeqCst);
    let answer = refused(&s, 410, "expired", || get(&s, &link));
    assert!(answer.body.contains("expired"), "{}", answer.body);
    refused(&s, 410, "expired", || {
        post(&s, &decision_path(), &with(&fields, &[("decision", "approve")]), Some(&cookie))
    });
}

#[test]
fn gets_and_posts_without_the_pages_token_change_nothing() {
    let ring = keyring("k1", &["k1"]);
    let s = service("csrf", ring.clone());
    let link = link_for(&ring, "ann@example.com");
    let query = link.split_once('?').unwrap().1;
    let answer =
        refused(&s, 405, "get_on_decision", || get(&s, &format!("{}?{query}&decision=approve", decision_path())));
    assert_eq!(answer.headers["allow"], "POST");
    let (fields, cookie) = open(&s, &link);
    let no_token: Vec<(String, String)> =
        with(&fields, &[("decision", "approve")]).into_iter().filter(|(k, _)| k != "csrf").collect();
    refused(&s, 403, "csrf", || post(&s, &decision_path(), &no_token, Some(&cookie)));
    refused(&s, 403, "csrf", || post(&s, &decision_path(), &with(&fields, &[("decision", "approve")]), None));
    refused(&s, 403, "csrf", || {
        post(&s, &decision_path(), &with(&fields, &[("decision", "approve"), ("csrf", "guessed")]), Some(&cookie))
    });
    refused(&s, 400, "no_reason", || {
        post(&s, &decision_path(), &with(&fields, &[("decision", "reject")]), Some(&cookie))
    });
    // Oversized bodies are cut off before any of this.
    let big = with(&fields, &[("decision", "reject"), ("reason", &"x".repeat(dqc_approvals::BODY_LIMIT))]);
    assert_eq!(post(&s, &decision_path(), &big, Some(&cookie)).status, 413);
    assert_eq!(record(&s)["status"], "pending");
}

#[test]
fn the_first_decision_wins_and_replays_change_nothing() {
    let ring = keyring("k1", &["k1"]);
    let s = Arc::new(service("race", ring.clone()));
    let link = link_for(&ring, "ann@example.com");
    let (fields, cookie) = open(&s, &link);
    let (f2, c2) = open(&s, &link);
    // Two approvals at once: exactly one wins.
    let racers: Vec<_> = [(fields.clone(), cookie.clone(), "approve"), (f2, c2, "reject")]
        .into_iter()
        .map(|(f, c, d)| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                post(&s, &decision_path(), &with(&f, &[("decision", d), ("reason", "not yet")]), Some(&c)).status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = racers.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let answered = s.tokens.0.lock().unwrap().clone();
    assert_eq!(answered.len(), 1, "{answered:?}");
    assert_eq!(answered[0].0, "token-1");
    let decided = record(&s);
    assert_ne!(decided["status"], "pending");
    let decisions = audits(&s).iter().filter(|a| a["event"] == "decision").count();
    assert_eq!(decisions, 1);
    // Replaying the winning request changes nothing more.
    let before = audits(&s).len();
    let replay = post(&s, &decision_path(), &with(&fields, &[("decision", "approve")]), Some(&cookie));
    assert_eq!(replay.status, 409, "{}", replay.body);
    assert!(replay.body.contains("already"), "{}", replay.body);
    assert_eq!(s.tokens.0.lock().unwrap().len(), 1);
    assert_eq!(record(&s), decided);
    assert_eq!(audits(&s).len(), before + 1);
    // The page now says who decided, with no buttons.
    let page = get(&s, &link);
    assert!(page.body.contains("Already <strong>"), "{}", page.body);
    assert!(!page.body.contains("id=\"approve\""));
}

#[test]
fn contract_text_and_values_render_as_text_under_a_strict_policy() {
    let ring = keyring("k1", &["k1"]);
    let s = service("xss", ring.clone());
    let page = get(&s, &link_for(&ring, "ann@example.com"));
    assert_eq!(page.status, 200);
    for raw in ["<script>alert('because')</script>", "<img src=x onerror=alert(1)>", "</pre><script>alert('contract')"]
    {
        assert!(!page.body.contains(raw), "{raw} is in the page raw");
    }
    assert!(page.body.contains("&lt;script&gt;alert(&#39;because&#39;)&lt;/script&gt;"));
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let scripts: Vec<&str> = page.body.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 2, "only the service's own scripts");
    assert!(scripts.iter().all(|s| s.starts_with(" src=\"/assets/")));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("http"),
        "{csp}"
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    let cookie = page.headers["set-cookie"].to_str().unwrap();
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(page.body.contains("class=\"violations\">3<"), "the backtest count");
    let js = get(&s, "/assets/mermaid.min.js");
    assert_eq!(js.status, 200);
    assert!(js.body.len() > 1_000_000);
}

#[test]
fn links_carry_no_task_token() {
    let ring = keyring("k1", &["k1"]);
    let link = link_for(&ring, "ann@example.com");
    assert!(!link.contains("token"), "{link}");
    let signed = SignedLink {
        link: Link { table: TABLE.into(), hash: HASH.into(), approver: "a".into(), scope: SCOPE.into(), expires: 1 },
        key_id: "k1".into(),
        signature: String::new(),
    };
    assert!(!signed.path().contains("token-1"));
}
