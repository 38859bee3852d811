//! Job-argument markers (`${name}`) and unknown pieces (`${?expr}`) are not
//! SQL, so they are swapped for placeholder identifiers before parsing and
//! restored in everything taken out of the parsed SQL.

/// The markers replaced in one SQL text.
#[derive(Debug, Default)]
pub(crate) struct Masks {
    markers: Vec<String>,
}

fn placeholder(i: usize) -> String {
    format!("__dqc_marker_{i}__")
}

impl Masks {
    /// Replaces every `${...}` marker in `text` by a placeholder identifier.
    pub(crate) fn mask(text: &str) -> (String, Masks) {
        let mut out = String::with_capacity(text.len());
        let mut masks = Masks::default();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            out.push_str(&rest[..start]);
            let marker = &rest[start..start + len + 1];
            let idx = match masks.markers.iter().position(|m| m == marker) {
                Some(i) => i,
                None => {
                    masks.markers.push(marker.to_owned());
                    masks.markers.len() - 1
                }
            };
            out.push_str(&placeholder(idx));
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        (out, masks)
    }

    /// Restores the markers in a string taken from the parsed SQL.
    pub(crate) fn unmask(&self, s: &str) -> String {
        if !s.contains("__dqc_marker_") {
            return s.to_owned();
        }
        let mut out = s.to_owned();
        // Highest index first so `_1__` never matches inside `_11__`.
        for (i, m) in self.markers.iter().enumerate().rev() {
            out = out.replace(&placeholder(i), m);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_restores_markers() {
        let (masked, m) = Masks::mask("SELECT * FROM ${db}.t WHERE d = '${?run_date}' AND e = '${db}'");
        assert_eq!(masked, "SELECT * FROM __dqc_marker_0__.t WHERE d = '__dqc_marker_1__' AND e = '__dqc_marker_0__'");
        assert_eq!(m.unmask("__dqc_marker_0__.t"), "${db}.t");
        assert_eq!(m.unmask("'__dqc_marker_1__'"), "'${?run_date}'");
    }
}
