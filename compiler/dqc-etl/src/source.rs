//! Byte offsets to line and column positions.

use crate::model::Location;

/// Maps byte offsets in a script to 1-based lines and character columns.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `src`.
    pub(crate) fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(src.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// The location of byte `offset`, clamped to the end of `src`.
    pub(crate) fn location(&self, src: &str, offset: usize) -> Location {
        let offset = offset.min(src.len());
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = src.get(start..offset).map_or(offset - start, |s| s.chars().count());
        Location {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let src = "ab\ncé\nx";
        let idx = LineIndex::new(src);
        assert_eq!(idx.location(src, 0), Location { line: 1, column: 1 });
        assert_eq!(idx.location(src, 3), Location { line: 2, column: 1 });
        // `é` is two bytes but one column.
        assert_eq!(idx.location(src, 6), Location { line: 2, column: 3 });
        assert_eq!(idx.location(src, 7), Location { line: 3, column: 1 });
        assert_eq!(idx.location(src, 99), Location { line: 3, column: 2 });
    }
}
