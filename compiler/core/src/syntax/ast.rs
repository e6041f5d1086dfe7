//! The syntax tree: what the parser read, with a span on every node and nothing resolved.
//!
//! Recovered junk is kept as explicit `Error` nodes so later stages can skip it without reporting
//! it again. Names (identifiers and keys) are kept as written, as [`Atom`]s: the parser interns
//! them per file, so every occurrence of `image` shares one allocation; the evaluator checks them.

use std::borrow::Borrow;
use std::fmt;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;

use crate::source::Span;

/// An interned name: a shared, immutable string that clones by bumping a count.
///
/// Identifiers and keys repeat a few thousand distinct texts hundreds of thousands of times in a
/// large estate, so the tree holds one allocation per distinct text rather than one per
/// occurrence. It derefs to `str`, compares, hashes and orders as its text (so maps keyed by atoms
/// are looked up by `&str`), and is `Send + Sync` so trees move between threads.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Atom(Arc<str>);

impl Atom {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Atom {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Atom {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Atom {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Atom {
    fn from(text: &str) -> Atom {
        Atom(Arc::from(text))
    }
}

impl From<String> for Atom {
    fn from(text: String) -> Atom {
        Atom(Arc::from(text))
    }
}

impl From<Atom> for String {
    fn from(atom: Atom) -> String {
        // `str`'s own copy, not `Display` (which `Arc<str>::to_string` goes through).
        atom.as_str().to_owned()
    }
}

impl PartialEq<str> for Atom {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Atom {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Atom {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Atom> for str {
    fn eq(&self, other: &Atom) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Atom> for &str {
    fn eq(&self, other: &Atom) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Atom> for String {
    fn eq(&self, other: &Atom) -> bool {
        **self == *other.0
    }
}

// The sizes a large estate's memory rests on, held as rustc holds its own: rare, large variants
// are boxed so that the common ones (a field, a string, a path) stay small.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<Entry>() == 88 && size_of::<Expr>() == 48 && size_of::<StrPart>() == 48);

/// One parsed file.
#[derive(Clone, Debug, Default)]
pub struct File {
    /// The file's top-level items in source order.
    pub items: Vec<Item>,
}

/// An identifier as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// Its text.
    pub name: Atom,
    /// Where it is.
    pub span: Span,
}

/// `path[index].rest…`: a dotted path, one index, and the names after it.
#[derive(Clone, Debug)]
pub struct IndexedPath {
    /// The names before the index (`service.nats.member`).
    pub path: Vec<Ident>,
    /// The index, an integer expression.
    pub index: Expr,
    /// The names after it (`url`), perhaps none.
    pub rest: Vec<Ident>,
}

/// A top-level item (also the items inside a `for`).
#[derive(Clone, Debug)]
pub enum Item {
    /// `import std.postgres`
    Import(Import),
    /// `let name = expr`
    Let(Let),
    /// `env NAME { path = expr, remove kind.name, blocks … }`
    Env(Env),
    /// `for x in [..] { items }`
    For(For),
    /// `KIND NAME { body }`
    Block(Block),
    /// `preset NAME for KIND { body }`
    Preset(Preset),
    /// `assert cond, "message"` (at the top level or in a loop)
    Assert(Assert),
    /// Text the parser could not read (already reported).
    Error(Span),
}

/// `assert cond, "message"`: a condition that must hold, and what to say when it does not.
#[derive(Clone, Debug)]
pub struct Assert {
    /// The condition, a boolean expression.
    pub cond: Expr,
    /// The message, a string expression (it may interpolate).
    pub message: Expr,
    /// The whole assertion.
    pub span: Span,
}

/// `import std.postgres`
#[derive(Clone, Debug)]
pub struct Import {
    /// The dotted module path (`std`, `postgres`).
    pub path: Vec<Ident>,
    /// The whole item.
    pub span: Span,
}

/// `let name = expr`
#[derive(Clone, Debug)]
pub struct Let {
    /// The bound name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// The whole item.
    pub span: Span,
}

/// `env NAME { service.web.replicas = 1 … }`: an overlay applied with `--env NAME`. Besides
/// field assignments it may remove blocks of the base estate and add blocks (and `for` loops of
/// blocks) of its own; applied, removals come first, then additions, then assignments.
#[derive(Clone, Debug)]
pub struct Env {
    /// The environment's name.
    pub name: Ident,
    /// The assignments, in source order.
    pub assignments: Vec<Assignment>,
    /// The `remove kind.name` entries, in source order.
    pub removals: Vec<Removal>,
    /// The blocks and `for` loops the environment adds, in source order (only
    /// [`Item::Block`] and [`Item::For`]).
    pub items: Vec<Item>,
    /// The whole item.
    pub span: Span,
}

/// `kind.name.field… = expr` (or `+= expr`) inside an overlay.
#[derive(Clone, Debug)]
pub struct Assignment {
    /// The dotted path: kind, name, then one or more fields.
    pub path: Vec<Key>,
    /// The new value.
    pub value: Expr,
    /// Whether it is written `+=`: the list is appended to the field's list instead of replacing it.
    pub append: bool,
    /// The whole assignment.
    pub span: Span,
}

/// `remove kind.name` inside an overlay: the environment has no such block.
#[derive(Clone, Debug)]
pub struct Removal {
    /// The kind, as written.
    pub kind: Ident,
    /// The block's name.
    pub name: Key,
    /// `remove kind.name.param`: a parameter of a preset the block uses, whose argument the
    /// environment drops (the parameter falls back to its default); `None` removes the block.
    pub param: Option<Key>,
    /// The whole entry.
    pub span: Span,
}

/// `for x in iterable { items }`
#[derive(Clone, Debug)]
pub struct For {
    /// The loop variable.
    pub var: Ident,
    /// A list or a range.
    pub iterable: Expr,
    /// The items expanded once per element.
    pub items: Vec<Item>,
    /// The whole item.
    pub span: Span,
}

/// `KIND NAME { body }`
#[derive(Clone, Debug)]
pub struct Block {
    /// The kind keyword (`service`).
    pub kind: Ident,
    /// The name: an identifier or an interpolated string.
    pub name: Name,
    /// The fields.
    pub body: Body,
    /// The whole block.
    pub span: Span,
}

/// `preset NAME for KIND { body }`: a block with parameters, merged into users by `use`.
#[derive(Clone, Debug)]
pub struct Preset {
    /// The preset's name.
    pub name: Ident,
    /// The kind of block it may be used in.
    pub kind: Ident,
    /// Its parameters and fields.
    pub body: Body,
    /// The whole preset.
    pub span: Span,
}

/// A block or member name: an identifier or a string (which may interpolate).
#[derive(Clone, Debug)]
pub enum Name {
    /// `web`
    Ident(Ident),
    /// `"worker-${i}"` (boxed: rare, and the tree holds a name per block)
    Str(Box<Expr>),
}

impl Name {
    /// Where the name is.
    pub fn span(&self) -> Span {
        match self {
            Name::Ident(ident) => ident.span,
            Name::Str(expr) => expr.span,
        }
    }
}

/// The key of a field: an identifier or a string (`"/data/ipfs" = …`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The key's text (unescaped).
    pub name: Atom,
    /// Where it is.
    pub span: Span,
    /// Whether it was written as a string.
    pub quoted: bool,
}

/// The inside of `{ … }`.
#[derive(Clone, Debug, Default)]
pub struct Body {
    /// The entries in source order.
    pub entries: Vec<Entry>,
    /// From `{` to `}`.
    pub span: Span,
}

/// One entry of a body.
#[derive(Clone, Debug)]
pub enum Entry {
    /// `field = expr`
    Field {
        /// The field.
        key: Key,
        /// Its value.
        value: Expr,
    },
    /// `field { … }`: a record.
    Record {
        /// The field.
        key: Key,
        /// The record.
        body: Body,
    },
    /// `field LABEL { … }`: a named member of a map of records.
    Member {
        /// The field (`zpool`, `step`).
        key: Key,
        /// The member's name (boxed, so a member is no larger than a field).
        label: Box<Name>,
        /// The member.
        body: Body,
    },
    /// `use std.postgres { … }`
    Use {
        /// The preset's dotted path.
        preset: Vec<Ident>,
        /// The parameters set.
        args: Body,
        /// The whole entry.
        span: Span,
    },
    /// `assert cond, "message"` (boxed, so an assertion is no larger than a field).
    Assert(Box<Assert>),
    /// `param name = default` (presets only).
    Param {
        /// The parameter.
        name: Ident,
        /// Its default; a parameter without one must be set by every `use`.
        default: Option<Box<Expr>>,
        /// The whole entry.
        span: Span,
    },
    /// Text the parser could not read (already reported).
    Error(Span),
}

/// An expression with its span.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// A transport protocol of a port literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// `/tcp`
    Tcp,
    /// `/udp`
    Udp,
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&` (the right side is evaluated only when the left is `true`)
    And,
    /// `||` (the right side is evaluated only when the left is `false`)
    Or,
}

impl BinaryOp {
    /// Whether the operator compares two values (`==`, `!=`, `<`, `<=`, `>`, `>=`).
    pub fn compares(self) -> bool {
        matches!(self, BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge)
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
        }
    }
}

/// `[for var in iterable if filter { body }]`: a list with one element per element of the
/// iterable the filter keeps, each the body evaluated with `var` bound to it.
#[derive(Clone, Debug)]
pub struct ListFor {
    /// The loop variable.
    pub var: Ident,
    /// A list (a table) or a range.
    pub iterable: Expr,
    /// `if cond`: the elements for which it is false are left out.
    pub filter: Option<Expr>,
    /// What each kept element becomes.
    pub body: ListForBody,
}

/// `kind."name".field…`: a reference whose name is a string, which may interpolate (a loop's
/// variable, as `service "mcp-${row.name}" { … }` declares the block).
#[derive(Clone, Debug)]
pub struct NamedRef {
    /// The kind (`service`), or `step`.
    pub kind: Ident,
    /// The name, a string expression.
    pub name: Expr,
    /// The fields after the name (`url`).
    pub field: Vec<Ident>,
}

/// The body of a [`ListFor`], inside `{ … }`.
#[derive(Clone, Debug)]
pub enum ListForBody {
    /// `{ name = row.name, port = row.port }`: a record, written as a record's entries.
    Record(Body),
    /// `{ "mcp-${row.name}" }`: one value, written alone (with the span of the braces).
    Value(Expr, Span),
}

impl ListForBody {
    /// From `{` to `}`.
    pub fn span(&self) -> Span {
        match self {
            ListForBody::Record(body) => body.span,
            ListForBody::Value(_, span) => *span,
        }
    }
}

/// A piece of an interpolated string.
#[derive(Clone, Debug)]
pub enum StrPart {
    /// Literal text, unescaped.
    Text(String),
    /// `${ expr }`
    Interpolation(Expr),
}

/// The forms an expression takes.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// `"text ${expr}"`
    Str(Vec<StrPart>),
    /// `''raw, multi-line''`
    RawStr(String),
    /// `42`
    Int(i64),
    /// `true`, `false`
    Bool(bool),
    /// `15m`, in milliseconds.
    Duration(u64),
    /// `2TiB`, in bytes.
    Size(u64),
    /// `10.0.0.1`
    Ip(IpAddr),
    /// `10.0.0.0/24`
    Cidr(IpAddr, u8),
    /// `4001/tcp` (the number is range-checked by the evaluator).
    Port(u64, Protocol),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{ key = value … }`
    Map(Box<Body>),
    /// `name`, `service.db`, `service.db.port`, `step.extract`
    Path(Vec<Ident>),
    /// `service.nats.member[i].url`: a path with one index after it, then more names. The
    /// evaluator reads it as the path with the index's value as a name (`member.2.url`).
    Indexed(Box<IndexedPath>),
    /// `http { … }`
    Tagged(Box<Ident>, Box<Body>),
    /// `nix("…")` and other calls.
    Call(Box<Ident>, Vec<Expr>),
    /// `a + b`
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `-a`
    Neg(Box<Expr>),
    /// `!a`
    Not(Box<Expr>),
    /// `1..=8` (inclusive) or `0..8`.
    Range(Box<Expr>, Box<Expr>, bool),
    /// `[for row in table if cond { … }]`: a list built by a loop (boxed: rare).
    ListFor(Box<ListFor>),
    /// `service."mcp-${row.name}".url`: a reference whose name a string builds (boxed: rare).
    NamedRef(Box<NamedRef>),
    /// Text the parser could not read (already reported).
    Error,
}
