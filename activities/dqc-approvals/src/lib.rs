//! The approval service: an approver follows a signed link to a review page and approves or
//! rejects; the first valid decision wins and answers the workflow's task token.
//!
//! One HTTP application ([`router`]), run locally by `dqc approvals serve` and on AWS as a
//! Lambda function (`lambda_http`). A GET never changes anything (link previews and mail
//! scanners cannot decide); decisions are POSTs with a CSRF token. Expired, decided, forged,
//! tampered, replayed, retired-key and wrong-approver links get a page saying why and change
//! nothing. Every decision and every refused attempt is an audit record in the metadata store
//! (`pk = audit#approvals`).

mod page;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use dqc_activities::approval::{Keyring, Link, LinkError, Review, SignedLink};
use dqc_activities::handlers::ANYONE;
use dqc_activities::test_run::table_pk;
use dqc_activities::{ArtifactStore, Error, MetadataStore, TaskTokens};

/// The partition of the audit records.
pub const AUDIT_PK: &str = "audit#approvals";

/// The largest request body taken (a decision form is well under it).
pub const BODY_LIMIT: usize = 16 * 1024;

/// The name of the CSRF cookie.
const CSRF_COOKIE: &str = "dqc_csrf";

/// What the service works with.
pub struct Approvals {
    pub metadata: Arc<dyn MetadataStore + Send + Sync>,
    pub store: Arc<dyn ArtifactStore + Send + Sync>,
    pub tokens: Arc<dyn TaskTokens + Send + Sync>,
    pub keyring: Keyring,
    /// Unix seconds now.
    pub clock: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals").field("keyring", &self.keyring).finish_non_exhaustive()
    }
}

/// The local runner's task tokens (`<home>/tokens/`), as the approval service answers them.
#[derive(Debug)]
pub struct LocalTokens(pub dqc_workflow::tokens::TokenStore);

impl TaskTokens for LocalTokens {
    fn send_success(&self, token: &str, output: &Value) -> Result<(), Error> {
        self.0.send_success(token, output).map_err(|e| Error::fatal(e.to_string()))
    }

    fn send_failure(&self, token: &str, error: &str, cause: &str) -> Result<(), Error> {
        self.0.send_failure(token, error, cause).map_err(|e| Error::fatal(e.to_string()))
    }
}

/// The application: the review page, the decision endpoint and the page's own assets.
pub fn router(state: Arc<Approvals>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/approvals/{table}/{hash}", get(review))
        .route("/approvals/{table}/{hash}/decision", get(decision_by_get).post(decide))
        .route("/assets/mermaid.min.js", get(mermaid))
        .route("/assets/review.js", get(review_js))
        .route("/assets/review.css", get(review_css))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// The headers of every answer: a strict Content-Security-Policy (scripts only from the service
/// itself; Mermaid's SVG needs inline styles), no framing, no sniffing, no referrer (the link
/// carries its signature), no caching.
async fn security_headers(request: Request<axum::body::Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         font-src 'self'; connect-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(h, header::HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    response
}

async fn home() -> Response {
    page::html(StatusCode::OK, "DE Copilot approvals", "<p>Follow the link you were sent to review a contract.</p>")
}

async fn mermaid() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../assets/mermaid.min.js"))
}

async fn review_js() -> Response {
    asset("text/javascript; charset=utf-8", page::REVIEW_JS)
}

async fn review_css() -> Response {
    asset("text/css; charset=utf-8", page::REVIEW_CSS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The link's fields in the query string (GET) or the form (POST).
#[derive(Debug, Clone, Deserialize)]
pub struct LinkFields {
    #[serde(default)]
    pub approver: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub expires: String,
    #[serde(default)]
    pub kid: String,
    #[serde(default)]
    pub sig: String,
}

impl LinkFields {
    fn signed(&self, table: &str, hash: &str) -> SignedLink {
        SignedLink {
            link: Link {
                table: table.to_owned(),
                hash: hash.to_owned(),
                approver: self.approver.clone(),
                scope: self.scope.clone(),
                // Unparsable: a link that cannot verify.
                expires: self.expires.parse().unwrap_or(i64::MIN),
            },
            key_id: self.kid.clone(),
            signature: self.sig.clone(),
        }
    }
}

/// The decision form.
#[derive(Debug, Clone, Deserialize)]
pub struct DecisionForm {
    #[serde(flatten)]
    pub link: LinkFields,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

/// Why a request is refused: the status, the audit code and what the page says.
struct Refusal {
    status: StatusCode,
    code: String,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Refusal {
        Refusal { status, code: code.to_owned(), message: message.into() }
    }
}

fn internal(e: &Error) -> Refusal {
    let status = if e.kind == dqc_activities::ErrorKind::Retryable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    Refusal::new(status, "error", format!("The approval could not be processed: {}", e.message))
}

/// An approval record and its keys.
struct Approval {
    pk: String,
    sk: String,
    record: Value,
}

fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map_or_else(|_| unix.to_string(), |t| t.to_string())
}

impl Approvals {
    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Writes an audit record; a failure to write it is reported, not hidden.
    fn audit(&self, entry: Value) -> Result<(), Error> {
        let mut nonce = [0u8; 6];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::fatal(format!("no randomness: {e}")))?;
        let sk = format!("{}#{}", rfc3339(self.now()), URL_SAFE_NO_PAD.encode(nonce));
        let mut entry = entry;
        entry["at"] = json!(rfc3339(self.now()));
        self.metadata.put(AUDIT_PK, &sk, &entry)
    }

    /// Checks the link and finds its approval: signature, expiry, key, the record, the approver.
    fn approval(&self, signed: &SignedLink) -> Result<Approval, Refusal> {
        self.keyring.verify(signed, self.now()).map_err(|e| {
            let status = if e == LinkError::Expired { StatusCode::GONE } else { StatusCode::FORBIDDEN };
            Refusal::new(status, e.code(), e.explain())
        })?;
        let pk = table_pk(&signed.link.table);
        let sk = format!("approval#{}", signed.link.hash);
        let record = self.metadata.get(&pk, &sk).map_err(|e| internal(&e))?.ok_or_else(|| {
            Refusal::new(StatusCode::NOT_FOUND, "no_approval", "No approval is waiting for this contract.")
        })?;
        let approvers: Vec<&str> =
            record["approvers"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let approver = signed.link.approver.as_str();
        let allowed = if approvers.is_empty() { approver == ANYONE } else { approvers.contains(&approver) };
        if !allowed {
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "wrong_approver",
                format!("{approver} is not an approver of this contract."),
            ));
        }
        Ok(Approval { pk, sk, record })
    }

    fn refuse(&self, what: &str, table: &str, hash: &str, approver: &str, r: &Refusal) -> Response {
        let audit = self.audit(json!({
            "event": "refused",
            "request": what,
            "table": table,
            "contract_hash": hash,
            "approver": approver,
            "reason": r.code,
        }));
        let mut message = r.message.clone();
        if let Err(e) = audit {
            message.push_str(&format!(" (The attempt could not be recorded: {}.)", e.message));
        }
        page::refusal(r.status, &message)
    }

    fn decided(&self, a: &Approval) -> Option<Value> {
        self.metadata.get(&a.pk, &a.sk.replacen("approval#", "decision#", 1)).ok().flatten()
    }
}

/// Runs `f` on a blocking thread: the ports are synchronous (the AWS adapters block on the SDK).
async fn blocking<F: FnOnce() -> Response + Send + 'static>(f: F) -> Response {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| page::refusal(StatusCode::INTERNAL_SERVER_ERROR, &format!("The request failed: {e}")))
}

async fn review(
    State(s): State<Arc<Approvals>>,
    Path((table, hash)): Path<(String, String)>,
    Query(q): Query<LinkFields>,
) -> Response {
    blocking(move || {
        let signed = q.signed(&table, &hash);
        let approval = match s.approval(&signed) {
            Ok(a) => a,
            Err(r) => return s.refuse("view", &table, &hash, &signed.link.approver, &r),
        };
        let review: Option<Review> = approval.record["review_key"]
            .as_str()
            .and_then(|k| s.store.get(k).ok().flatten())
            .and_then(|b| serde_json::from_slice(&b).ok());
        let decided = s.decided(&approval);
        let mut token = [0u8; 18];
        if getrandom::getrandom(&mut token).is_err() {
            return page::refusal(StatusCode::INTERNAL_SERVER_ERROR, "No randomness for the form's token.");
        }
        let csrf = URL_SAFE_NO_PAD.encode(token);
        let view = page::ReviewView {
            signed: &signed,
            record: &approval.record,
            review: review.as_ref(),
            decided: decided.as_ref(),
            csrf: &csrf,
            now: s.now(),
        };
        let mut response = page::review(&view);
        let cookie = format!("{CSRF_COOKIE}={csrf}; Path=/approvals; Max-Age=3600; Secure; HttpOnly; SameSite=Strict");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
        response
    })
    .await
}

/// A GET on the decision URL changes nothing: it is refused (and audited).
async fn decision_by_get(
    State(s): State<Arc<Approvals>>,
    Path((table, hash)): Path<(String, String)>,
    Query(q): Query<LinkFields>,
) -> Response {
    blocking(move || {
        let r = Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "get_on_decision",
            "Decisions are made with the buttons of the review page; opening this address changes nothing.",
        );
        let mut response = s.refuse("decision", &table, &hash, &q.approver, &r);
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        response
    })
    .await
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

async fn decide(
    State(s): State<Arc<Approvals>>,
    Path((table, hash)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<DecisionForm>,
) -> Response {
    blocking(move || {
        let signed = form.link.signed(&table, &hash);
        let approver = signed.link.approver.clone();
        match decide_now(&s, &signed, &headers, &form) {
            Ok(response) => response,
            Err(r) => s.refuse("decision", &table, &hash, &approver, &r),
        }
    })
    .await
}

fn decide_now(
    s: &Approvals,
    signed: &SignedLink,
    headers: &HeaderMap,
    form: &DecisionForm,
) -> Result<Response, Refusal> {
    let approval = s.approval(signed)?;
    let given = cookie(headers, CSRF_COOKIE).unwrap_or_default();
    if form.csrf.is_empty() || !bool::from(given.as_bytes().ct_eq(form.csrf.as_bytes())) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "This decision did not come from the review page (its form token is missing or wrong). Open your link again and decide there.",
        ));
    }
    let reason = form.reason.trim();
    let (decision, approve) = match form.decision.as_str() {
        "approve" => ("approved", true),
        "reject" if reason.is_empty() => {
            return Err(Refusal::new(StatusCode::BAD_REQUEST, "no_reason", "A rejection needs a reason."))
        }
        "reject" => ("rejected", false),
        _ => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "bad_decision",
                "The decision must be approve or reject.",
            ))
        }
    };
    if reason.chars().count() > 2000 {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "reason_too_long",
            "The reason is limited to 2,000 characters.",
        ));
    }
    let now = s.now();
    if approval.record["deadline"].as_i64().is_some_and(|d| now >= d) {
        return Err(Refusal::new(StatusCode::GONE, "past_deadline", "The approval's deadline has passed."));
    }
    if approval.record["status"] != "pending" {
        return Err(already(&approval.record));
    }
    let decided_at = rfc3339(now);
    let entry = json!({
        "decision": decision,
        "approver": signed.link.approver,
        "decided_at": decided_at,
        "reason": (!reason.is_empty()).then_some(reason),
    });
    // The first valid decision wins: the decision item is written once.
    let decision_sk = approval.sk.replacen("approval#", "decision#", 1);
    if !s.metadata.put_if_absent(&approval.pk, &decision_sk, &entry).map_err(|e| internal(&e))? {
        let record = s.metadata.get(&approval.pk, &decision_sk).ok().flatten().unwrap_or(Value::Null);
        return Err(already(&json!({"status": record["decision"], "decision": record})));
    }
    let token = approval.record["task_token"].as_str().unwrap_or_default();
    let delivered = if approve {
        s.tokens.send_success(
            token,
            &json!({"decision": decision, "approver": signed.link.approver, "decided_at": decided_at}),
        )
    } else {
        s.tokens.send_failure(token, "DqcRejected", &format!("rejected by {}: {reason}", signed.link.approver))
    };
    let mut record = approval.record.clone();
    record["status"] = json!(if delivered.is_ok() { decision } else { "undelivered" });
    record["decision"] = entry.clone();
    if let Err(e) = &delivered {
        record["delivery_error"] = json!(e.message);
    }
    let stored = s.metadata.put(&approval.pk, &approval.sk, &record);
    s.audit(json!({
        "event": "decision",
        "table": signed.link.table,
        "contract_hash": signed.link.hash,
        "approver": signed.link.approver,
        "decision": decision,
        "reason": entry["reason"],
        "delivered": delivered.is_ok(),
        "delivery_error": delivered.as_ref().err().map(|e| e.message.clone()),
    }))
    .map_err(|e| internal(&e))?;
    stored.map_err(|e| internal(&e))?;
    Ok(match delivered {
        Ok(()) => page::decided(&signed.link, decision, reason),
        Err(e) => page::refusal(
            StatusCode::BAD_GATEWAY,
            &format!("Your decision ({decision}) is recorded, but the workflow did not take it: {}", e.message),
        ),
    })
}

fn already(record: &Value) -> Refusal {
    let d = &record["decision"];
    let by = d["approver"].as_str().unwrap_or("someone");
    let at = d["decided_at"].as_str().unwrap_or("earlier");
    let what = record["status"].as_str().unwrap_or("decided");
    Refusal::new(
        StatusCode::CONFLICT,
        "already_decided",
        format!("This contract was already {what} by {by} at {at}; nothing changed."),
    )
}
