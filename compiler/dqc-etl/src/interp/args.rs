//! Arguments of a Python call, evaluated.

use crate::model::Location;

use super::value::Value;

/// The evaluated arguments of one call.
#[derive(Debug, Clone)]
pub(crate) struct CallArgs<'a> {
    /// Positional arguments, with `*list` expanded where the list is known.
    pub pos: Vec<Value<'a>>,
    /// Keyword arguments, with `**dict` expanded where the dict is known.
    pub kw: Vec<(String, Value<'a>)>,
    /// Source text of each positional argument.
    pub pos_text: Vec<&'a str>,
    /// Source text of each keyword argument's value.
    pub kw_text: Vec<(String, &'a str)>,
    /// Where the call is.
    pub loc: Location,
    /// Source text of the whole call.
    pub text: &'a str,
}

impl<'a> CallArgs<'a> {
    /// The arguments of a method call with the receiver as the first positional one (`self`).
    pub(crate) fn with_receiver(&self, receiver: Value<'a>) -> CallArgs<'a> {
        let mut out = self.clone();
        out.pos.insert(0, receiver);
        out.pos_text.insert(0, "self");
        out
    }

    /// Argument given by keyword `name` or else at position `idx`.
    pub(crate) fn get(&self, idx: usize, name: &str) -> Option<&Value<'a>> {
        self.kw(name).or_else(|| self.pos.get(idx))
    }

    /// Keyword argument `name`.
    pub(crate) fn kw(&self, name: &str) -> Option<&Value<'a>> {
        self.kw.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Source text of the argument given by keyword `name` or at `idx`.
    pub(crate) fn text_of(&self, idx: usize, name: &str) -> &'a str {
        self.kw_text
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, t)| *t)
            .or_else(|| self.pos_text.get(idx).copied())
            .unwrap_or("")
    }

    /// A name argument: the string if known, else `${?source text}` so the
    /// output shows exactly which expression could not be followed.
    pub(crate) fn name_arg(&self, idx: usize, name: &str) -> Option<String> {
        match self.get(idx, name)? {
            Value::Str(s) => Some(s.clone()),
            _ => Some(format!("${{?{}}}", self.text_of(idx, name))),
        }
    }

    /// Keyword `name` or position `idx`, as a string.
    pub(crate) fn str_arg(&self, idx: usize, name: &str) -> Option<String> {
        self.get(idx, name).and_then(|v| v.as_str()).map(str::to_owned)
    }

    /// Every argument value, positional then keyword.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Value<'a>> {
        self.pos.iter().chain(self.kw.iter().map(|(_, v)| v))
    }

    /// Whether any argument is or holds a dataset.
    pub(crate) fn holds_frame(&self) -> bool {
        self.all().any(Value::holds_frame)
    }

    /// Positional arguments, flattening one level of lists (`select(["a", "b"])`).
    pub(crate) fn flat_pos(&self) -> Vec<Value<'a>> {
        let mut out = Vec::new();
        for v in &self.pos {
            match v {
                Value::List(items) => out.extend(items.iter().cloned()),
                other => out.push(other.clone()),
            }
        }
        out
    }
}
