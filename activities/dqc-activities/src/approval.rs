//! Approval links and the review an approver sees.
//!
//! A link names an approval (table and contract hash), the approver, the decision scope and an
//! expiry, signed with HMAC-SHA-256 under a key of the [`Keyring`]; it never carries the
//! workflow's task token, which stays in the metadata store. Keys rotate: links signed with an
//! older key stay valid while that key is in the keyring (until they expire); a key removed from
//! it is retired, and its links are refused.
//!
//! The review ([`build_review`]) is computed once, when the approval is requested: the rules
//! added, removed, tightened and loosened against the approved version, each with its evidence
//! and its violation count on the current data (the backtest), the table's diagram and the
//! generated tests.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use dqc_compiler::ir::{Contract, Project, Rule, Severity};

use crate::ports::{Error, QueryEngine};

/// What a link allows: deciding (approving or rejecting) one approval.
pub const SCOPE: &str = "decide";

/// The signing keys, by id, and the one new links are signed with.
#[derive(Clone, Serialize, Deserialize)]
pub struct Keyring {
    /// The id of the key that signs new links.
    pub current: String,
    /// Every key whose links are still honoured, base64url-encoded (at least 32 bytes).
    pub keys: BTreeMap<String, String>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("current", &self.current).field("keys", &self.keys.keys()).finish()
    }
}

impl Keyring {
    /// Reads a keyring from its JSON text (`{"current": "k2", "keys": {"k2": "...", "k1": "..."}}`).
    pub fn from_json(text: &str) -> Result<Keyring, Error> {
        let ring: Keyring = serde_json::from_str(text).map_err(|e| {
            Error::fatal(format!("the approval keyring is not of the form {{\"current\", \"keys\"}}: {e}"))
        })?;
        for (id, key) in &ring.keys {
            let bytes = URL_SAFE_NO_PAD
                .decode(key.trim_end_matches('='))
                .map_err(|e| Error::fatal(format!("approval key `{id}` is not base64url: {e}")))?;
            if bytes.len() < 32 {
                return Err(Error::fatal(format!(
                    "approval key `{id}` has {} bytes; at least 32 are needed",
                    bytes.len()
                )));
            }
        }
        if !ring.keys.contains_key(&ring.current) {
            return Err(Error::fatal(format!("the current approval key `{}` is not in the keyring", ring.current)));
        }
        Ok(ring)
    }

    /// A new keyring with one random key named `id`.
    pub fn generate(id: &str) -> Result<Keyring, Error> {
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key).map_err(|e| Error::fatal(format!("no randomness for a key: {e}")))?;
        Ok(Keyring { current: id.to_owned(), keys: BTreeMap::from([(id.to_owned(), URL_SAFE_NO_PAD.encode(key))]) })
    }

    fn key(&self, id: &str) -> Option<Vec<u8>> {
        self.keys.get(id).and_then(|k| URL_SAFE_NO_PAD.decode(k.trim_end_matches('=')).ok())
    }

    fn mac(&self, id: &str, link: &Link) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key(id)?).ok()?;
        mac.update(link.message().as_bytes());
        Some(mac)
    }

    /// Signs `link` with the current key.
    pub fn sign(&self, link: &Link) -> SignedLink {
        let signature = self.mac(&self.current, link).map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()));
        SignedLink { link: link.clone(), key_id: self.current.clone(), signature: signature.unwrap_or_default() }
    }

    /// Checks a link's signature (in constant time) and expiry at `now` (Unix seconds).
    pub fn verify(&self, signed: &SignedLink, now: i64) -> Result<(), LinkError> {
        let Some(mac) = self.mac(&signed.key_id, &signed.link) else { return Err(LinkError::RetiredKey) };
        let given = URL_SAFE_NO_PAD.decode(&signed.signature).map_err(|_| LinkError::BadSignature)?;
        mac.verify_slice(&given).map_err(|_| LinkError::BadSignature)?;
        if signed.link.scope != SCOPE {
            return Err(LinkError::BadSignature);
        }
        if now >= signed.link.expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The signature does not match the link's fields: forged or tampered.
    BadSignature,
    /// Signed with a key no longer in the keyring, or an unknown one.
    RetiredKey,
    /// Past its expiry.
    Expired,
}

impl LinkError {
    /// What the approver is told.
    pub fn explain(self) -> &'static str {
        match self {
            LinkError::BadSignature => {
                "This link is not valid: its signature does not match (it was changed or not issued by DE Copilot)."
            }
            LinkError::RetiredKey => "This link was signed with a key that has been retired; ask for a new link.",
            LinkError::Expired => "This link has expired; ask for a new link.",
        }
    }

    /// The stable name kept in the audit record.
    pub fn code(self) -> &'static str {
        match self {
            LinkError::BadSignature => "bad_signature",
            LinkError::RetiredKey => "retired_key",
            LinkError::Expired => "expired",
        }
    }
}

/// The signed fields of a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// `database.table`.
    pub table: String,
    /// The contract hash the approval is for.
    pub hash: String,
    /// Who may decide with this link.
    pub approver: String,
    /// Always [`SCOPE`].
    pub scope: String,
    /// Unix seconds after which the link is refused.
    pub expires: i64,
}

impl Link {
    fn message(&self) -> String {
        // Length-prefixed, so no two different links share a message.
        let fields = [self.table.as_str(), &self.hash, &self.approver, &self.scope, &self.expires.to_string()];
        let mut out = String::from("dqc-approval-link-v1");
        for f in fields {
            out.push_str(&format!("\n{}:{f}", f.len()));
        }
        out
    }
}

/// A link with its key id and signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedLink {
    pub link: Link,
    pub key_id: String,
    pub signature: String,
}

fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl Link {
    /// The review page's path, `/approvals/<table>/<hash>`, each segment percent-encoded.
    pub fn page(&self) -> String {
        format!("/approvals/{}/{}", enc(&self.table), enc(&self.hash))
    }
}

impl SignedLink {
    /// The review page's path and query: `/approvals/<table>/<hash>?approver=...&...`.
    pub fn path(&self) -> String {
        let l = &self.link;
        format!(
            "{}?approver={}&scope={}&expires={}&kid={}&sig={}",
            l.page(),
            enc(&l.approver),
            enc(&l.scope),
            l.expires,
            enc(&self.key_id),
            enc(&self.signature)
        )
    }
}

/// Issues links: where the approval service answers, the keyring and how long links live.
#[derive(Debug, Clone)]
pub struct LinkSigner {
    /// The service's base URL, such as `https://approvals.example.com` or `http://127.0.0.1:8600`.
    pub base_url: String,
    pub keyring: Keyring,
    /// Seconds a link stays valid.
    pub ttl_seconds: i64,
}

impl LinkSigner {
    /// The link for `approver` to decide on `hash` of `table`, issued at `now` (Unix seconds).
    pub fn link(&self, table: &str, hash: &str, approver: &str, now: i64) -> String {
        let link = Link {
            table: table.to_owned(),
            hash: hash.to_owned(),
            approver: approver.to_owned(),
            scope: SCOPE.to_owned(),
            expires: now.saturating_add(self.ttl_seconds),
        };
        format!("{}{}", self.base_url.trim_end_matches('/'), self.keyring.sign(&link).path())
    }
}

/// How a rule changed against the approved version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    /// Stricter: more rows or runs fail.
    Tightened,
    /// Laxer: fewer rows or runs fail.
    Loosened,
    /// Different in a way that is neither plainly stricter nor laxer.
    Changed,
    Unchanged,
}

/// One rule in the review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRule {
    pub id: String,
    pub change: Change,
    /// What the rule requires, in words.
    pub description: String,
    /// The approved version's wording, when it changed.
    pub previous: Option<String>,
    pub severity: String,
    /// The evidence behind the rule.
    pub because: Option<String>,
    /// Violations on the current data (`None` for removed rules and rules not evaluated).
    pub violations: Option<u64>,
    /// The backtest's verdict (`pass`, `fail`, `warn`, `not_evaluated`).
    pub status: Option<String>,
}

/// What the review page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub table: String,
    pub contract_hash: String,
    /// The approved version's hash, when there is one.
    pub previous_hash: Option<String>,
    /// The draft's text.
    pub source: String,
    /// The approved version's text.
    pub previous_source: Option<String>,
    /// A unified diff of the two texts (empty without an approved version).
    pub diff: String,
    pub rules: Vec<ReviewRule>,
    /// Rows the backtest saw, and when it ran.
    pub backtest_rows: u64,
    pub backtest_run_time: String,
    /// The table's Mermaid diagram.
    pub diagram: String,
    /// The generated post-load tests, in the engine's SQL dialect.
    pub tests_sql: String,
}

fn percent(rule: &Rule) -> f64 {
    rule.min_pass_percent.as_deref().and_then(|p| p.parse().ok()).unwrap_or(100.0)
}

/// How `now` differs from `before` (the same id), by the parts that make a rule stricter or laxer.
fn change(before: &Rule, now: &Rule) -> Change {
    let (kind_same, filter_same) = (before.kind == now.kind, before.filter == now.filter);
    let severity = match (before.severity, now.severity) {
        (Severity::Warn, Severity::Error) => Some(Change::Tightened),
        (Severity::Error, Severity::Warn) => Some(Change::Loosened),
        _ => None,
    };
    let threshold = match percent(now).partial_cmp(&percent(before)) {
        Some(std::cmp::Ordering::Greater) => Some(Change::Tightened),
        Some(std::cmp::Ordering::Less) => Some(Change::Loosened),
        _ => None,
    };
    let filter = match (&before.filter, &now.filter) {
        (None, Some(_)) => Some(Change::Loosened),
        (Some(_), None) => Some(Change::Tightened),
        _ if filter_same => None,
        _ => Some(Change::Changed),
    };
    let kind = if kind_same { None } else { Some(Change::Changed) };
    let parts: Vec<Change> = [severity, threshold, filter, kind].into_iter().flatten().collect();
    match parts.as_slice() {
        [] => Change::Unchanged,
        [first, rest @ ..] if rest.iter().all(|c| c == first) => *first,
        _ => Change::Changed,
    }
}

/// The inputs of a review.
#[derive(Debug)]
pub struct ReviewInputs<'a> {
    /// The project with the draft (the published contracts and the draft).
    pub project: &'a Project,
    pub table: &'a str,
    pub source: &'a str,
    /// The project of the approved versions, and the approved source, when there is one.
    pub previous: Option<(&'a Project, &'a str)>,
    /// The run time of the backtest, `YYYY-MM-DD HH:MM:SS`.
    pub run_time: &'a str,
}

fn find<'p>(project: &'p Project, table: &str) -> Option<&'p Contract> {
    project.contracts.iter().find(|c| c.table.qualified() == table)
}

/// Builds the review: the rule diff, the backtest of the draft on `engine`, the diagram and the
/// generated tests.
pub fn build_review(engine: &dyn QueryEngine, i: &ReviewInputs<'_>) -> Result<Review, Error> {
    let contract =
        find(i.project, i.table).ok_or_else(|| Error::fatal(format!("the draft has no contract for {}", i.table)))?;
    let suite = dqc_compiler::codegen::sql::suite(engine.dialect(), i.project, contract, false);
    let options =
        crate::post_load::RunOptions { run_time: i.run_time.to_owned(), ..crate::post_load::RunOptions::default() };
    let run = crate::post_load::run(engine, &suite, &options)?;
    let verdicts: BTreeMap<&str, &crate::post_load::RuleResult> =
        run.rules.iter().map(|r| (r.rule_id.as_str(), r)).collect();
    let descriptions: BTreeMap<&str, &str> =
        suite.rules.iter().map(|r| (r.id.as_str(), r.description.as_str())).collect();
    let previous = i.previous.and_then(|(p, _)| find(p, i.table).map(|c| (p, c)));
    let previous_descriptions: BTreeMap<String, String> = previous
        .map(|(p, c)| {
            dqc_compiler::codegen::sql::suite(engine.dialect(), p, c, false)
                .rules
                .into_iter()
                .map(|r| (r.id, r.description))
                .collect()
        })
        .unwrap_or_default();
    let mut rules = Vec::new();
    for rule in &contract.rules {
        let before = previous.and_then(|(_, c)| c.rules.iter().find(|r| r.id == rule.id));
        let change = match (previous, before) {
            (None, _) => Change::Added,
            (Some(_), None) => Change::Added,
            (Some(_), Some(b)) => change(b, rule),
        };
        let verdict = verdicts.get(rule.id.as_str());
        let description = descriptions.get(rule.id.as_str()).map_or_else(|| rule.id.clone(), |d| (*d).to_owned());
        let previous_text = previous_descriptions.get(&rule.id).filter(|p| **p != description).cloned();
        rules.push(ReviewRule {
            id: rule.id.clone(),
            change,
            description,
            previous: if change == Change::Unchanged { None } else { previous_text },
            severity: severity_name(rule.severity).to_owned(),
            because: rule.because.clone(),
            violations: verdict.map(|v| v.violations),
            status: verdict.map(|v| status_name(v)),
        });
    }
    if let Some((_, c)) = previous {
        for rule in c.rules.iter().filter(|r| !contract.rules.iter().any(|n| n.id == r.id)) {
            rules.push(ReviewRule {
                id: rule.id.clone(),
                change: Change::Removed,
                description: previous_descriptions.get(&rule.id).cloned().unwrap_or_else(|| rule.id.clone()),
                previous: None,
                severity: severity_name(rule.severity).to_owned(),
                because: rule.because.clone(),
                violations: None,
                status: None,
            });
        }
    }
    let stem = dqc_compiler::codegen::file_stem(i.project, contract);
    let outputs = dqc_compiler::compile(i.project, dqc_compiler::Target::ALL);
    let file = |path: String| outputs.iter().find(|f| f.path == path).map(|f| f.contents.clone()).unwrap_or_default();
    let previous_source = i.previous.map(|(_, s)| s.to_owned());
    let diff = previous_source
        .as_deref()
        .map(|old| {
            similar::TextDiff::from_lines(old, i.source)
                .unified_diff()
                .context_radius(3)
                .header("approved", "draft")
                .to_string()
        })
        .unwrap_or_default();
    Ok(Review {
        table: i.table.to_owned(),
        contract_hash: contract.hash.clone(),
        previous_hash: previous.map(|(_, c)| c.hash.clone()),
        source: i.source.to_owned(),
        previous_source,
        diff,
        rules,
        backtest_rows: run.row_count,
        backtest_run_time: i.run_time.to_owned(),
        diagram: file(format!("docs/{stem}.mmd")),
        tests_sql: file(format!("sql/{}/{stem}.sql", engine.dialect().name())),
    })
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warn => "warn",
    }
}

fn status_name(r: &crate::post_load::RuleResult) -> String {
    serde_json::to_value(r.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The review as JSON.
pub fn review_json(r: &Review) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring { current: "k1".into(), keys: BTreeMap::from([("k1".into(), URL_SAFE_NO_PAD.encode([7u8; 32]))]) }
    }

    fn link() -> Link {
        Link {
            table: "a.b".into(),
            hash: "sha256:00".into(),
            approver: "x@y".into(),
            scope: SCOPE.into(),
            expires: 100,
        }
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let signed = ring().sign(&link());
        assert_eq!(ring().verify(&signed, 99), Ok(()));
        assert_eq!(ring().verify(&signed, 100), Err(LinkError::Expired));
    }

    #[test]
    fn every_field_is_signed() {
        let signed = ring().sign(&link());
        let tampered: [fn(&mut SignedLink); 6] = [
            |s| s.link.table.push('x'),
            |s| s.link.hash.push('1'),
            |s| s.link.approver = "x@z".into(),
            |s| s.link.scope = "admin".into(),
            |s| s.link.expires += 1,
            |s| s.signature.replace_range(0..1, if s.signature.starts_with('A') { "B" } else { "A" }),
        ];
        for t in tampered {
            let mut s = signed.clone();
            t(&mut s);
            assert_eq!(ring().verify(&s, 0), Err(LinkError::BadSignature), "{s:?}");
        }
        let mut other_key = signed.clone();
        other_key.key_id = "k0".into();
        assert_eq!(ring().verify(&other_key, 0), Err(LinkError::RetiredKey));
    }

    #[test]
    fn keyrings_are_checked_when_read() {
        assert!(Keyring::from_json(r#"{"current": "k1", "keys": {"k1": "c2hvcnQ"}}"#).is_err());
        assert!(Keyring::from_json(r#"{"current": "k2", "keys": {}}"#).is_err());
        let text = serde_json::to_string(&Keyring::generate("k9").unwrap()).unwrap();
        assert_eq!(Keyring::from_json(&text).unwrap().current, "k9");
    }
}
