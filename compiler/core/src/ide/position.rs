//! Byte offsets to and from the `(line, character)` positions of the Language Server Protocol,
//! where characters count UTF-16 code units.
//!
//! Lines end at `\n` (a `\r` before it belongs to the line, so `\r\n` files work as well). An
//! offset inside a character or past the end is clamped; a position past the end of its line is
//! clamped to the line's end, as the protocol asks.

/// A zero-based line and UTF-16 character offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Zero-based line.
    pub line: u32,
    /// Zero-based offset in UTF-16 code units from the start of the line.
    pub character: u32,
}

/// The start offset of every line of one text.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<u32>,
}

impl LineIndex {
    /// Indexes the lines of `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0u32];
        line_starts.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i as u32 + 1));
        LineIndex { line_starts }
    }

    /// The position of byte `offset` of `text` (the text this index was built from).
    pub fn position(&self, text: &str, offset: u32) -> Position {
        let mut offset = (offset as usize).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start as usize <= offset).saturating_sub(1);
        let start = self.line_starts.get(line).copied().unwrap_or(0) as usize;
        let character = text.get(start..offset).map_or(0, |prefix| prefix.encode_utf16().count());
        Position { line: line as u32, character: character as u32 }
    }

    /// The byte offset of `position` in `text` (the text this index was built from).
    pub fn offset(&self, text: &str, position: Position) -> u32 {
        let Some(&start) = self.line_starts.get(position.line as usize) else {
            return text.len() as u32;
        };
        let end = self.line_starts.get(position.line as usize + 1).map_or(text.len(), |&next| next as usize - 1);
        let line = text.get(start as usize..end).unwrap_or("");
        let mut units = 0u32;
        for (index, c) in line.char_indices() {
            if units >= position.character {
                return start + index as u32;
            }
            units += c.len_utf16() as u32;
        }
        end as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_count_surrogate_pairs_twice() {
        let text = "a é 😀 b\nline two\r\nx";
        let index = LineIndex::new(text);
        let b = text.find(" b").expect("b") as u32 + 1;
        // `a`, space, `é`, space, the emoji (two units), space: `b` is at unit 7.
        assert_eq!(index.position(text, b), Position { line: 0, character: 7 });
        assert_eq!(index.offset(text, Position { line: 0, character: 7 }), b);
        let x = text.len() as u32 - 1;
        assert_eq!(index.position(text, x), Position { line: 2, character: 0 });
        assert_eq!(index.offset(text, Position { line: 2, character: 0 }), x);
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let text = "ab\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, Position { line: 0, character: 99 }), 2);
        assert_eq!(index.offset(text, Position { line: 9, character: 0 }), 5);
        assert_eq!(index.position(text, 99), Position { line: 1, character: 2 });
        // Inside a multi-byte character: the character's start.
        let text = "é";
        assert_eq!(LineIndex::new(text).position(text, 1), Position { line: 0, character: 0 });
    }
}
