//! The stdio transport: `lsp-server`'s message framing, plus responses whose result is already
//! serialised JSON ([`RawResponse`]).
//!
//! Why not `lsp_server::Connection::stdio()` alone: its messages hold a `serde_json::Value`, and
//! the outline of a 10,000-service file is some 30,000 symbols, a million small maps and strings
//! when built as a `Value` (40 ms on a quiet machine, over 100 ms on a busy one), against 10 ms
//! to write the same JSON text straight from the symbols. Reading and writing messages is still
//! `lsp_server::Message::read`/`write`; only a raw response is framed here (the base protocol's
//! `Content-Length` header, as `lsp-server` writes it).
//!
//! Invariant: messages reach stdout in the order the server sent them. Both channels are
//! rendezvous channels (capacity 0): a send returns only once the writer has taken the message,
//! so the server's next send cannot overtake it, whichever channel it goes through.

use std::io::{self, BufRead, Write};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender, bounded, select};
use lsp_server::{Connection, Message, RequestId};

/// A response to request `id` whose `result` is JSON text.
pub struct RawResponse {
    /// The request answered.
    pub id: RequestId,
    /// The result, serialised.
    pub result: String,
}

/// Where raw responses go; `None` on a transport that carries only messages (tests' in-memory
/// connections), where the result is parsed into a message instead.
pub type RawSender = Option<Sender<RawResponse>>;

/// The threads reading stdin and writing stdout.
pub struct IoThreads {
    reader: JoinHandle<io::Result<()>>,
    writer: JoinHandle<io::Result<()>>,
}

impl IoThreads {
    /// Waits for both threads (the reader ends at `exit` or end of input, the writer when every
    /// sender is gone).
    pub fn join(self) -> io::Result<()> {
        let reader = self.reader.join().map_err(|_| io::Error::other("the reader thread panicked"))?;
        let writer = self.writer.join().map_err(|_| io::Error::other("the writer thread panicked"))?;
        reader.and(writer)
    }
}

/// A connection over stdin and stdout, with its raw-response channel.
pub fn stdio() -> io::Result<(Connection, Sender<RawResponse>, IoThreads)> {
    let (message_sender, messages) = bounded::<Message>(0);
    let (raw_sender, raws) = bounded::<RawResponse>(0);
    let writer = thread::Builder::new()
        .name("spec-lsp-writer".into())
        .spawn(move || write_all(&mut io::stdout().lock(), &messages, &raws))?;
    let (incoming_sender, incoming) = bounded::<Message>(0);
    let reader = thread::Builder::new().name("spec-lsp-reader".into()).spawn(move || {
        let mut stdin = io::stdin().lock();
        read_all(&mut stdin, &incoming_sender)
    })?;
    let connection = Connection { sender: message_sender, receiver: incoming };
    Ok((connection, raw_sender, IoThreads { reader, writer }))
}

fn read_all(input: &mut impl BufRead, incoming: &Sender<Message>) -> io::Result<()> {
    while let Some(message) = Message::read(input)? {
        let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
        incoming.send(message).map_err(io::Error::other)?;
        if exit {
            break;
        }
    }
    Ok(())
}

/// Writes what arrives on either channel until both are closed.
fn write_all(out: &mut impl Write, messages: &Receiver<Message>, raws: &Receiver<RawResponse>) -> io::Result<()> {
    let (mut messages_open, mut raws_open) = (true, true);
    while messages_open || raws_open {
        let never_message = crossbeam_channel::never();
        let never_raw = crossbeam_channel::never();
        select! {
            recv(if messages_open { messages } else { &never_message }) -> message => match message {
                Ok(message) => message.write(out)?,
                Err(_) => messages_open = false,
            },
            recv(if raws_open { raws } else { &never_raw }) -> raw => match raw {
                Ok(raw) => write_raw(out, &raw)?,
                Err(_) => raws_open = false,
            },
        }
    }
    Ok(())
}

/// Frames a raw response as `lsp_server::Message::write` frames a response.
fn write_raw(out: &mut impl Write, raw: &RawResponse) -> io::Result<()> {
    let id = serde_json::to_string(&raw.id).map_err(io::Error::other)?;
    let head = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":");
    let length = head.len() + raw.result.len() + 1;
    write!(out, "Content-Length: {length}\r\n\r\n")?;
    out.write_all(head.as_bytes())?;
    out.write_all(raw.result.as_bytes())?;
    out.write_all(b"}")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw response reads back, through `lsp-server`'s own reader, as the response it stands for.
    #[test]
    fn a_raw_response_reads_back_as_a_response() {
        let raw = RawResponse { id: RequestId::from(7), result: "[{\"name\":\"db\"}]".into() };
        let mut framed = Vec::new();
        assert!(write_raw(&mut framed, &raw).is_ok());
        let read = Message::read(&mut framed.as_slice());
        let Ok(Some(Message::Response(response))) = read else { panic!("not a response: {read:?}") };
        assert_eq!(response.id, RequestId::from(7));
        assert_eq!(response.response_result.ok(), Some(serde_json::json!([{"name": "db"}])));
    }
}
