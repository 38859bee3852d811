//! The pages, rendered on the server. Every text that comes from a contract, a rule, the data or
//! a request goes through [`escape`]; the only script is the service's own (Mermaid and
//! `review.js`), and the page works without it except for the diagram.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use dqc_activities::approval::{Change, Link, Review, SignedLink};

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub const REVIEW_JS: &str = "// Renders the table's diagram with the service's own copy of Mermaid.\n\
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });\n\
mermaid.run({ querySelector: 'pre.mermaid' });\n";

pub const REVIEW_CSS: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}\n\
table{border-collapse:collapse;width:100%}td,th{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}\n\
pre{background:#f6f8fa;padding:.8rem;overflow:auto}.add{color:#116329}.del{color:#82071e}\n\
.change{font-weight:600;text-transform:uppercase;font-size:.8rem}.added,.tightened{color:#116329}.removed,.loosened{color:#9a6700}\n\
.decision{display:flex;gap:2rem;margin:2rem 0}.decision form{border:1px solid #d0d7de;padding:1rem}\n\
textarea{width:24rem;height:5rem}.refused{border-left:4px solid #cf222e;padding-left:1rem}\n";

/// A whole page.
pub fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let text = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title><link rel=\"stylesheet\" href=\"/assets/review.css\"></head>\n\
         <body>\n{body}\n</body></html>\n",
        escape(title)
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], text).into_response()
}

/// A refusal: why nothing changed.
pub fn refusal(status: StatusCode, message: &str) -> Response {
    html(
        status,
        "Not accepted",
        &format!("<h1>Nothing changed</h1>\n<p class=\"refused\" id=\"refusal\">{}</p>", escape(message)),
    )
}

/// The answer to a decision that was taken.
pub fn decided(link: &Link, decision: &str, reason: &str) -> Response {
    let reason = if reason.is_empty() { String::new() } else { format!(" Reason: {}.", escape(reason)) };
    html(
        StatusCode::OK,
        "Decision recorded",
        &format!(
            "<h1>Decision recorded</h1>\n<p id=\"outcome\">The contract for <code>{}</code> ({}) is <strong>{decision}</strong> by {}.{reason} {next}</p>",
            escape(&link.table),
            escape(&link.hash),
            escape(&link.approver),
            next = if decision == "approved" {
                "The workflow goes on to publish it."
            } else {
                "The workflow ends with the rejection."
            }
        ),
    )
}

/// What the review page shows.
pub struct ReviewView<'a> {
    pub signed: &'a SignedLink,
    pub record: &'a Value,
    pub review: Option<&'a Review>,
    pub decided: Option<&'a Value>,
    pub csrf: &'a str,
    pub now: i64,
}

fn change_name(c: Change) -> &'static str {
    match c {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Tightened => "tightened",
        Change::Loosened => "loosened",
        Change::Changed => "changed",
        Change::Unchanged => "unchanged",
    }
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| if v.is_null() { "-".into() } else { v.to_string() }, str::to_owned)
}

fn when(unix: Option<i64>) -> String {
    unix.and_then(|u| jiff::Timestamp::from_second(u).ok()).map_or_else(|| "-".into(), |t| t.to_string())
}

fn rules_table(review: &Review) -> String {
    let mut rows = String::new();
    for r in &review.rules {
        let previous =
            r.previous.as_ref().map(|p| format!("<br><small>was: {}</small>", escape(p))).unwrap_or_default();
        let backtest = match (r.violations, &r.status) {
            (Some(v), Some(s)) => format!("<span class=\"violations\">{v}</span> ({})", escape(s)),
            _ => "-".into(),
        };
        rows.push_str(&format!(
            "<tr data-rule=\"{}\"><td><code>{}</code></td><td class=\"change {c}\">{c}</td><td>{}{previous}</td><td>{}</td><td>{}</td><td class=\"backtest\">{backtest}</td></tr>\n",
            escape(&r.id),
            escape(&r.id),
            escape(&r.description),
            escape(&r.severity),
            r.because.as_deref().map(escape).unwrap_or_else(|| "-".into()),
            c = change_name(r.change),
        ));
    }
    format!(
        "<table id=\"rules\"><thead><tr><th>rule</th><th>change</th><th>requires</th><th>severity</th><th>because</th><th>violations now</th></tr></thead>\n<tbody>\n{rows}</tbody></table>"
    )
}

fn diff(review: &Review) -> String {
    if review.diff.is_empty() {
        return "<p>No approved version yet: every rule is new.</p>".into();
    }
    let lines: Vec<String> = review
        .diff
        .lines()
        .map(|l| {
            let class = if l.starts_with('+') && !l.starts_with("+++") {
                " class=\"add\""
            } else if l.starts_with('-') && !l.starts_with("---") {
                " class=\"del\""
            } else {
                ""
            };
            format!("<span{class}>{}</span>", escape(l))
        })
        .collect();
    format!("<pre id=\"diff\">{}</pre>", lines.join("\n"))
}

fn hidden(signed: &SignedLink, csrf: &str) -> String {
    let l = &signed.link;
    [
        ("approver", l.approver.clone()),
        ("scope", l.scope.clone()),
        ("expires", l.expires.to_string()),
        ("kid", signed.key_id.clone()),
        ("sig", signed.signature.clone()),
        ("csrf", csrf.to_owned()),
    ]
    .iter()
    .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", escape(v)))
    .collect::<Vec<_>>()
    .join("")
}

/// The review page.
pub fn review(v: &ReviewView<'_>) -> Response {
    let l = &v.signed.link;
    let r = v.record;
    let mut body = format!(
        "<h1>Approve the contract for <code>{}</code>?</h1>\n<dl>\
         <dt>Contract version</dt><dd><code>{}</code></dd>\
         <dt>Approved version</dt><dd><code>{}</code></dd>\
         <dt>Requested by</dt><dd>{}</dd><dt>Requested at</dt><dd>{}</dd>\
         <dt>Deadline</dt><dd>{}</dd><dt>Workflow execution</dt><dd><code>{}</code></dd>\
         <dt>You decide as</dt><dd>{}</dd><dt>This link expires</dt><dd>{}</dd></dl>\n",
        escape(&l.table),
        escape(&l.hash),
        escape(
            &v.review.and_then(|rv| rv.previous_hash.clone()).unwrap_or_else(|| text(&r["previous"]["contract_hash"]))
        ),
        escape(&text(&r["requester"])),
        escape(&text(&r["requested_at"])),
        escape(&when(r["deadline"].as_i64())),
        escape(&text(&r["execution"])),
        escape(&l.approver),
        escape(&when(Some(l.expires))),
    );
    match v.review {
        Some(review) => {
            body.push_str(&format!(
                "<h2>Rules</h2>\n<p>Backtest: each rule run on the table's current data ({} rows, as of {}).</p>\n{}\n",
                review.backtest_rows,
                escape(&review.backtest_run_time),
                rules_table(review)
            ));
            body.push_str(&format!("<h2>Changes against the approved version</h2>\n{}\n", diff(review)));
            body.push_str(&format!(
                "<h2>Diagram</h2>\n<pre class=\"mermaid\" id=\"diagram\">{}</pre>\n",
                escape(&review.diagram)
            ));
            body.push_str(&format!("<h2>Contract</h2>\n<pre id=\"contract\">{}</pre>\n", escape(&review.source)));
            body.push_str(&format!(
                "<details><summary>Generated tests (SQL)</summary><pre id=\"tests\">{}</pre></details>\n",
                escape(&review.tests_sql)
            ));
        }
        None => body.push_str("<p>The review of this draft is not available.</p>\n"),
    }
    let action = escape(&format!("{}/decision", l.page()));
    match v.decided {
        Some(d) => body.push_str(&format!(
            "<p id=\"outcome\">Already <strong>{}</strong> by {} at {}; nothing more to decide.</p>\n",
            escape(&text(&d["decision"])),
            escape(&text(&d["approver"])),
            escape(&text(&d["decided_at"]))
        )),
        None if r["status"] != "pending" => body.push_str(&format!(
            "<p id=\"outcome\">This approval is {}; nothing more to decide.</p>\n",
            escape(&text(&r["status"]))
        )),
        None if v.now >= l.expires => body.push_str("<p id=\"outcome\">This link has expired.</p>\n"),
        None => body.push_str(&format!(
            "<div class=\"decision\">\
             <form method=\"post\" action=\"{action}\">{h}<input type=\"hidden\" name=\"decision\" value=\"approve\">\
             <button type=\"submit\" id=\"approve\">Approve</button></form>\
             <form method=\"post\" action=\"{action}\">{h}<input type=\"hidden\" name=\"decision\" value=\"reject\">\
             <label>Why reject? <textarea name=\"reason\" id=\"reason\" required maxlength=\"2000\"></textarea></label>\
             <button type=\"submit\" id=\"reject\">Reject</button></form></div>\n",
            h = hidden(v.signed, v.csrf)
        )),
    }
    body.push_str("<script src=\"/assets/mermaid.min.js\"></script><script src=\"/assets/review.js\"></script>");
    html(StatusCode::OK, &format!("Approve the contract for {}?", l.table), &body)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
