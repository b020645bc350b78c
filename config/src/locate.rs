//! Maps a [`FieldPath`] in the model back to a line and column of the TOML text it came from.

use toml_edit::{Document, Item, Table, Value};

use crate::diagnostic::{FieldPath, Position, Segment};

/// A parsed document that keeps the byte spans of every item.
pub struct Locator<'a> {
    text: &'a str,
    doc: Option<Document<&'a str>>,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Self {
        Locator {
            text,
            doc: crate::tomldoc::document(text),
        }
    }

    /// The position of the deepest part of `path` that exists in the document.
    pub fn position(&self, path: &FieldPath) -> Option<Position> {
        let doc = self.doc.as_ref()?;
        let offset = locate_in_table(doc.as_table(), &path.0)?;
        Some(Position::of_offset(self.text, offset))
    }
}

enum Node<'t> {
    Item(&'t Item),
    Value(&'t Value),
    Table(&'t Table),
}

fn locate_in_table(table: &Table, path: &[Segment]) -> Option<usize> {
    let mut node = Node::Table(table);
    let mut best = table.span().map(|s| s.start);
    for seg in path {
        let next = match (&node, seg) {
            (Node::Table(t), Segment::Key(k)) => {
                if let Some(key_span) = t.key(k).and_then(toml_edit::Key::span) {
                    best = Some(key_span.start);
                }
                t.get(k).map(Node::Item)
            }
            (Node::Item(Item::Table(t)), Segment::Key(k)) => {
                if let Some(key_span) = t.key(k).and_then(toml_edit::Key::span) {
                    best = Some(key_span.start);
                }
                t.get(k).map(Node::Item)
            }
            (
                Node::Item(Item::Value(Value::InlineTable(t))) | Node::Value(Value::InlineTable(t)),
                Segment::Key(k),
            ) => {
                if let Some(key_span) = t.key(k).and_then(toml_edit::Key::span) {
                    best = Some(key_span.start);
                }
                t.get(k).map(Node::Value)
            }
            (Node::Item(Item::ArrayOfTables(a)), Segment::Index(i)) => a.get(*i).map(Node::Table),
            (
                Node::Item(Item::Value(Value::Array(a))) | Node::Value(Value::Array(a)),
                Segment::Index(i),
            ) => a.get(*i).map(Node::Value),
            _ => None,
        };
        let Some(next) = next else { break };
        let span = match &next {
            Node::Item(i) => i.span(),
            Node::Value(v) => v.span(),
            Node::Table(t) => t.span(),
        };
        if let Some(s) = span {
            best = Some(s.start);
        }
        node = next;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_array_value() {
        let text = "[gateway]\nhost_id = \"x\"\n\n[[zones]]\nname = \"a\"\nprefixes = [\"10.0.0.0/8\", \"bad\"]\n";
        let loc = Locator::new(text);
        let pos = loc
            .position(&FieldPath::at("zones").index(0).key("prefixes").index(1))
            .unwrap();
        assert_eq!(pos.line, 6);
        assert_eq!(pos.column, 27);
        let pos = loc
            .position(&FieldPath::at("zones").index(0).key("name"))
            .unwrap();
        assert_eq!((pos.line, pos.column), (5, 8));
    }

    #[test]
    fn missing_tail_falls_back_to_parent() {
        let text = "[gateway]\nhost_id = \"x\"\n";
        let loc = Locator::new(text);
        let pos = loc
            .position(&FieldPath::at("gateway").key("nothing"))
            .unwrap();
        assert_eq!(pos.line, 1);
    }
}
