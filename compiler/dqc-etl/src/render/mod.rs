//! Renderers: JSON for machines, text for people and goldens, Mermaid for
//! the lineage graph. All return strings; none does IO.

mod mermaid;
mod text;

pub use mermaid::render_mermaid;
pub use text::render_text;

use crate::model::JobAnalysis;

/// Renders analyses as a pretty-printed JSON array, ending in a newline.
pub fn render_json(jobs: &[JobAnalysis]) -> String {
    match serde_json::to_string_pretty(jobs) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // Serialising these plain structs cannot fail; keep a valid document anyway.
        Err(e) => format!("{{\"error\": {:?}}}\n", e.to_string()),
    }
}
