//! The requests: each reads its parameters, asks the core's `ide` queries and converts the answer.
//! A request about a document that is not open, or not a file, is answered with `null`.

use lsp_server::{ErrorCode, Request, Response};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest, References, Request as _,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionResponse, CompletionTextEdit, Documentation, GotoDefinitionResponse,
    Hover, HoverContents, Location, MarkupContent, MarkupKind, SymbolKind, TextEdit,
};
use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value as Json;
use spec_compiler::ide::{LineIndex, complete, hover, outline};

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
