//! The requests: each reads its parameters, asks the core's `ide` queries and converts the answer.
//! A request about a document that is not open, or not a file, is answered with `null`.

use lsp_server::{ErrorCode, Request, Response};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentHighlightRequest, DocumentSymbolRequest, FoldingRangeRequest, Formatting,
    GotoDefinition, HoverRequest, PrepareRenameRequest, References, Rename, Request as _, SemanticTokensFullRequest,
    SemanticTokensRangeRequest, SignatureHelpRequest, WorkspaceSymbolRequest,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionResponse, CompletionTextEdit, Documentation, GotoDefinitionResponse,
    Hover, HoverContents, Location, MarkupContent, MarkupKind, SymbolKind, TextEdit,
};
use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value as Json, json};
use spec_compiler::ide::{
    LineIndex, complete, fix, folding, highlight, hover, outline, rename, signature, symbols, tokens,
};

use crate::convert;
use crate::server::{Context, Server};
use crate::transport::RawResponse;

fn params<P: DeserializeOwned>(request: &Request) -> Result<P, Box<Response>> {
    serde_json::from_value(request.params.clone()).map_err(|error| {
        Box::new(Response::new_err(
            request.id.clone(),
            ErrorCode::InvalidParams as i32,
            format!("invalid parameters: {error}"),
        ))
    })
}

/// An answer: a message, or a result already serialised (the outline).
pub enum Reply {
    /// A response message.
    Message(Response),
    /// A result as JSON text.
    Raw(RawResponse),
}

/// Answers one request.
pub fn dispatch(server: &mut Server<'_>, request: Request) -> Reply {
    let id = request.id.clone();
    if request.method == SemanticTokensFullRequest::METHOD {
        return match params::<lsp_types::SemanticTokensParams>(&request) {
            Ok(p) => {
                let result = server
                    .with_context(&p.text_document.uri, |context| semantic_tokens(context, None))
                    .unwrap_or_else(|| "null".into());
                Reply::Raw(RawResponse { id, result })
            }
            Err(response) => Reply::Message(*response),
        };
    }
    if request.method == DocumentSymbolRequest::METHOD {
        return match params::<lsp_types::DocumentSymbolParams>(&request) {
            Ok(p) => {
                let result = server.with_context(&p.text_document.uri, symbols).unwrap_or_else(|| "null".into());
                Reply::Raw(RawResponse { id, result })
            }
            Err(response) => Reply::Message(*response),
        };
    }
    let answer: Result<Json, Box<Response>> = match request.method.as_str() {
        HoverRequest::METHOD => params::<lsp_types::HoverParams>(&request).map(|p| {
            let position = p.text_document_position_params;
            json(server.with_context(&position.text_document.uri, |context| hover(context, position.position)))
        }),
        GotoDefinition::METHOD => params::<lsp_types::GotoDefinitionParams>(&request).map(|p| {
            let position = p.text_document_position_params;
            json(server.with_context(&position.text_document.uri, |context| definition(context, position.position)))
        }),
        References::METHOD => params::<lsp_types::ReferenceParams>(&request).map(|p| {
            let position = p.text_document_position;
            let declaration = p.context.include_declaration;
            json(server.with_context(&position.text_document.uri, |context| {
                references(context, position.position, declaration)
            }))
        }),
        Completion::METHOD => params::<lsp_types::CompletionParams>(&request).map(|p| {
            let position = p.text_document_position;
            json(server.with_context(&position.text_document.uri, |context| completion(context, position.position)))
        }),
        Formatting::METHOD => params::<lsp_types::DocumentFormattingParams>(&request)
            .map(|p| json(server.document(&p.text_document.uri).map(formatting))),
        SemanticTokensRangeRequest::METHOD => params::<lsp_types::SemanticTokensRangeParams>(&request).map(|p| {
            let result = server.with_context(&p.text_document.uri, |context| {
                let range = (context.offset(p.range.start), context.offset(p.range.end));
                semantic_tokens(context, Some(range))
            });
            result.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or(Json::Null)
        }),
        CodeActionRequest::METHOD => params::<lsp_types::CodeActionParams>(&request)
            .map(|p| json(server.with_context(&p.text_document.uri, |context| code_actions(context, p.range)))),
        PrepareRenameRequest::METHOD => params::<lsp_types::TextDocumentPositionParams>(&request).and_then(|p| {
            let answer = server.with_context(&p.text_document.uri, |context| {
                rename::prepare(&context.world, context.offset(p.position))
                    .map(|target| json!({"range": context.location(target.span).map(|l| l.range), "placeholder": target.symbol.name}))
            });
            match answer {
                Some(Err(message)) => Err(failed(&id, message)),
                other => Ok(other.and_then(Result::ok).unwrap_or(Json::Null)),
            }
        }),
        Rename::METHOD => params::<lsp_types::RenameParams>(&request).and_then(|p| {
            let position = p.text_document_position;
            let answer = server.with_context(&position.text_document.uri, |context| {
                let edits = rename::rename(&context.world, context.offset(position.position), &p.new_name)?;
                Ok(workspace_edit(context, edits))
            });
            match answer {
                Some(Err(message)) => Err(failed(&id, message)),
                other => Ok(other.and_then(Result::ok).unwrap_or(Json::Null)),
            }
        }),
        WorkspaceSymbolRequest::METHOD => {
            params::<lsp_types::WorkspaceSymbolParams>(&request).map(|p| workspace_symbols(server, &p.query))
        }
        DocumentHighlightRequest::METHOD => params::<lsp_types::DocumentHighlightParams>(&request).map(|p| {
            let position = p.text_document_position_params;
            json(server.with_context(&position.text_document.uri, |context| highlights(context, position.position)))
        }),
        FoldingRangeRequest::METHOD => params::<lsp_types::FoldingRangeParams>(&request)
            .map(|p| json(server.with_context(&p.text_document.uri, |context| Some(folding_ranges(context))))),
        SignatureHelpRequest::METHOD => params::<lsp_types::SignatureHelpParams>(&request).map(|p| {
            let position = p.text_document_position_params;
            json(server.with_context(&position.text_document.uri, |context| signature_help(context, position.position)))
        }),
        method => Err(Box::new(Response::new_err(
            id.clone(),
            ErrorCode::MethodNotFound as i32,
            format!("`{method}` is not supported"),
        ))),
    };
    Reply::Message(match answer {
        // Built directly: `Response::new_ok` would convert (deep-copy) the JSON once more.
        Ok(result) => Response { id, response_result: Ok(result) },
        Err(response) => *response,
    })
}

fn json<T: serde::Serialize>(answer: Option<Option<T>>) -> Json {
    answer.flatten().and_then(|a| serde_json::to_value(a).ok()).unwrap_or(Json::Null)
}

fn hover(context: &Context<'_>, position: lsp_types::Position) -> Option<Hover> {
    let (span, text) = hover::hover(&context.world, context.offset(position))?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }),
        range: Some(context.location(span)?.range),
    })
}

fn definition(context: &Context<'_>, position: lsp_types::Position) -> Option<GotoDefinitionResponse> {
    let (_, target) = context.world.goto_definition(context.offset(position))?;
    Some(GotoDefinitionResponse::Scalar(context.location(target)?))
}

fn references(context: &Context<'_>, position: lsp_types::Position, declaration: bool) -> Option<Vec<Location>> {
    let spans = context.world.find_references(context.offset(position), declaration);
    Some(spans.into_iter().filter_map(|span| context.location(span)).collect())
}

fn completion(context: &Context<'_>, position: lsp_types::Position) -> Option<CompletionResponse> {
    let found = complete::complete(&context.world, context.offset(position))?;
    let range = context.location(found.replace)?.range;
    let items = found
        .items
        .into_iter()
        .map(|item| CompletionItem {
            kind: Some(match item.kind {
                complete::ItemKind::Kind => CompletionItemKind::CLASS,
                complete::ItemKind::Keyword => CompletionItemKind::KEYWORD,
                complete::ItemKind::Field => CompletionItemKind::FIELD,
                complete::ItemKind::Symbol => CompletionItemKind::ENUM_MEMBER,
                complete::ItemKind::Reference => CompletionItemKind::REFERENCE,
                complete::ItemKind::Preset => CompletionItemKind::MODULE,
                complete::ItemKind::Param => CompletionItemKind::VARIABLE,
            }),
            detail: item.detail,
            documentation: item
                .doc
                .map(|doc| Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value: doc })),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit { range, new_text: item.label.clone() })),
            label: item.label,
            ..CompletionItem::default()
        })
        .collect();
    Some(CompletionResponse::List(lsp_types::CompletionList { is_incomplete: found.incomplete, items }))
}

/// One edit replacing the whole document with `spec fmt`'s layout (none when it is formatted
/// already); `null` when the document has syntax errors, which `spec fmt` leaves alone too. The
/// document's own tree says whether it has any, so only a document not parsed yet is parsed here.
fn formatting(document: &crate::server::Document) -> Option<Vec<TextEdit>> {
    use spec_compiler::syntax::format;
    let formatted = match document.syntax_ok() {
        Some(true) => format::layout(&document.text),
        Some(false) => return None,
        None => format::format_source(&document.text)?,
    };
    if formatted == document.text {
        return Some(Vec::new());
    }
    let range = convert::range(document.lines(), &document.text, 0, document.text.len() as u32);
    Some(vec![TextEdit { range, new_text: formatted }])
}

/// The outline as the protocol's `DocumentSymbol[]`, serialised straight from the symbols: a
/// 10,000-service file has some 30,000, and going through `lsp_types` or `serde_json::Value`
/// would allocate a million small maps and strings (see [`crate::transport`]).
fn symbols(context: &Context<'_>) -> String {
    let symbols = outline::outline(context.world.text, context.world.ast);
    let json = DocumentSymbols { symbols: &symbols, lines: context.document.lines(), text: &context.document.text };
    // Serialising strings, integers and lists into a string cannot fail.
    serde_json::to_string(&json).unwrap_or_else(|_| "null".into())
}

/// Outline symbols, serialised as `DocumentSymbol`s.
struct DocumentSymbols<'a> {
    symbols: &'a [outline::OutlineSymbol],
    lines: &'a LineIndex,
    text: &'a str,
}

impl Serialize for DocumentSymbols<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut list = serializer.serialize_seq(Some(self.symbols.len()))?;
        for symbol in self.symbols {
            list.serialize_element(&DocumentSymbol { symbol, outline: self })?;
        }
        list.end()
    }
}

struct DocumentSymbol<'a> {
    symbol: &'a outline::OutlineSymbol,
    outline: &'a DocumentSymbols<'a>,
}

impl Serialize for DocumentSymbol<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let DocumentSymbol { symbol, outline } = self;
        let kind = match symbol.kind {
            outline::SymbolKind::Block => SymbolKind::OBJECT,
            outline::SymbolKind::Member => SymbolKind::FIELD,
            outline::SymbolKind::Preset => SymbolKind::CLASS,
            outline::SymbolKind::Let => SymbolKind::VARIABLE,
            outline::SymbolKind::Env => SymbolKind::NAMESPACE,
            outline::SymbolKind::Import => SymbolKind::MODULE,
            outline::SymbolKind::Loop => SymbolKind::ARRAY,
        };
        let range =
            |span: spec_compiler::source::Span| convert::range(outline.lines, outline.text, span.start, span.end);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &symbol.name)?;
        map.serialize_entry("detail", &symbol.detail)?;
        map.serialize_entry("kind", &kind)?;
        map.serialize_entry("range", &range(symbol.span))?;
        map.serialize_entry("selectionRange", &range(symbol.name_span))?;
        if !symbol.children.is_empty() {
            let children = DocumentSymbols { symbols: &symbol.children, lines: outline.lines, text: outline.text };
            map.serialize_entry("children", &children)?;
        }
        map.end()
    }
}

/// A request that cannot be carried out (a rename to a taken name), with the reason shown.
fn failed(id: &lsp_server::RequestId, message: String) -> Box<Response> {
    // `RequestFailed` (-32803): the request was valid, the server cannot do it.
    Box::new(Response::new_err(id.clone(), -32803, message))
}

/// The semantic tokens of the document (of `range` only, when given), as the protocol's relative
/// encoding: five numbers per token, a token over several lines split at each line's end.
fn semantic_tokens(context: &Context<'_>, range: Option<(u32, u32)>) -> String {
    use std::fmt::Write as _;
    let text = context.world.text;
    let lines = context.document.lines();
    let found = tokens::tokens(text, context.world.file, context.world.ast, range);
    let mut data = String::with_capacity(found.len() * 16 + 16);
    data.push_str("{\"data\":[");
    let (mut last_line, mut last_start) = (0u32, 0u32);
    let mut first = true;
    for token in found {
        let class = tokens::Class::ALL.iter().position(|c| *c == token.class).unwrap_or(0);
        let modifiers = u32::from(token.declaration);
        let mut start = token.start;
        while start < token.end {
            let line_end = text.get(start as usize..token.end as usize).and_then(|rest| rest.find('\n'));
            let end = line_end.map_or(token.end, |n| start + n as u32);
            let piece = text.get(start as usize..end as usize).unwrap_or("").trim_end_matches('\r');
            let length = piece.encode_utf16().count() as u32;
            if length > 0 {
                let position = lines.position(text, start);
                // Tokens come in text order, never overlapping (`tokens::tokens`).
                let delta_line = position.line.saturating_sub(last_line);
                let delta_start =
                    if delta_line == 0 { position.character.saturating_sub(last_start) } else { position.character };
                if !first {
                    data.push(',');
                }
                first = false;
                let _ = write!(data, "{delta_line},{delta_start},{length},{class},{modifiers}");
                (last_line, last_start) = (position.line, position.character);
            }
            start = end + 1;
        }
    }
    data.push_str("]}");
    data
}

/// The quick fixes of the diagnostics under `range`.
fn code_actions(context: &Context<'_>, range: lsp_types::Range) -> Option<Json> {
    let (start, end) = (context.offset(range.start), context.offset(range.end));
    let diagnostics = &context.checked.analysis.diagnostics;
    let found = fix::fixes(&context.world, diagnostics, start, end);
    let actions: Vec<Json> = found
        .into_iter()
        .filter_map(|found| {
            let diagnostic = diagnostics.get(found.diagnostic)?;
            let range = context.location(context.world.current(diagnostic.primary.span)?)?.range;
            let shown = convert::diagnostic(diagnostic, range, &|span| context.location(span));
            let edits: Vec<TextEdit> = found
                .edits
                .iter()
                .filter_map(|(span, text)| {
                    Some(TextEdit { range: context.location(*span)?.range, new_text: text.clone() })
                })
                .collect();
            Some(json!({
                "title": found.title,
                "kind": "quickfix",
                "diagnostics": [shown],
                "isPreferred": true,
                "edit": {"changes": {context.document.uri.as_str(): edits}},
            }))
        })
        .collect();
    Some(Json::Array(actions))
}

/// Edits of any files of the namespace as a `WorkspaceEdit`.
fn workspace_edit(context: &Context<'_>, edits: Vec<(spec_compiler::source::Span, String)>) -> Json {
    let mut changes: std::collections::BTreeMap<String, Vec<TextEdit>> = std::collections::BTreeMap::new();
    for (span, new_text) in edits {
        if let Some(location) = context.location(span) {
            changes
                .entry(location.uri.as_str().to_string())
                .or_default()
                .push(TextEdit { range: location.range, new_text });
        }
    }
    json!({"changes": changes})
}

/// The most symbols one search answers with.
const MAX_SYMBOLS: usize = 1000;

/// The symbols of every checked namespace matching `query`.
fn workspace_symbols(server: &mut Server<'_>, query: &str) -> Json {
    let mut found: Vec<(symbols::WorkspaceSymbol, Location)> = Vec::new();
    for checked in server.every_checked() {
        let (matched, _) =
            symbols::workspace_symbols(&checked.analysis.index, &checked.analysis.sources, query, MAX_SYMBOLS);
        for symbol in matched {
            if let Some(location) = crate::server::location(&checked, server.stdlib(), symbol.span) {
                found.push((symbol, location));
            }
        }
    }
    found.sort_by(|(a, la), (b, lb)| (&a.name, &a.kind, la.uri.as_str()).cmp(&(&b.name, &b.kind, lb.uri.as_str())));
    found.dedup_by(|(_, a), (_, b)| a == b);
    found.truncate(MAX_SYMBOLS);
    let list: Vec<Json> = found
        .into_iter()
        .map(|(symbol, location)| {
            let kind = match symbol.kind.as_str() {
                "preset" => SymbolKind::CLASS,
                "step" => SymbolKind::FUNCTION,
                _ => SymbolKind::OBJECT,
            };
            let container = symbol.container.map(|w| format!("workflow {w}")).unwrap_or(symbol.kind);
            json!({"name": symbol.name, "kind": kind, "location": location, "containerName": container})
        })
        .collect();
    Json::Array(list)
}

fn highlights(context: &Context<'_>, position: lsp_types::Position) -> Option<Json> {
    let found = highlight::highlights(&context.world, context.offset(position));
    let list: Vec<Json> = found
        .into_iter()
        .filter_map(|(span, declaration)| {
            let range = context.location(span)?.range;
            // The protocol's kinds: 2 read, 3 write (a declaration).
            Some(json!({"range": range, "kind": if declaration { 3 } else { 2 }}))
        })
        .collect();
    Some(Json::Array(list))
}

fn folding_ranges(context: &Context<'_>) -> Json {
    let text = context.world.text;
    let lines = context.document.lines();
    let mut seen = std::collections::BTreeSet::new();
    let mut list = Vec::new();
    for fold in folding::folding_ranges(text, context.world.ast) {
        let start = lines.position(text, fold.start).line;
        let last = lines.position(text, fold.end.saturating_sub(1));
        let mut end = last.line;
        // A closing `}` or `]` at the start of its line stays visible.
        let closing = text.get(..fold.end as usize).and_then(|t| t.rsplit('\n').next()).unwrap_or("");
        if !fold.comment && matches!(closing.trim(), "}" | "]") {
            end = end.saturating_sub(1);
        }
        if end > start && seen.insert((start, end)) {
            let mut range = json!({"startLine": start, "endLine": end});
            if fold.comment {
                range["kind"] = json!("comment");
            }
            list.push(range);
        }
    }
    Json::Array(list)
}

fn signature_help(context: &Context<'_>, position: lsp_types::Position) -> Option<Json> {
    let found = signature::signature(&context.world, context.offset(position))?;
    let utf16 = |at: u32| found.label.get(..at as usize).map_or(0, |s| s.encode_utf16().count());
    let parameters: Vec<Json> =
        found.params.iter().map(|(start, end, _)| json!({"label": [utf16(*start), utf16(*end)]})).collect();
    let active = found.active.unwrap_or(found.params.len());
    Some(json!({
        "signatures": [{
            "label": found.label,
            "documentation": {"kind": "markdown", "value": found.doc},
            "parameters": parameters,
            "activeParameter": active,
        }],
        "activeSignature": 0,
        "activeParameter": active,
    }))
}
