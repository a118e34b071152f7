//! What the panel reads from the gateway and the loader, taken field by field from the values the
//! browser's `JSON.parse` made, and the few things it writes, as objects given to
//! `JSON.stringify`. Not serde: deserializing these types through serde cost the panel more
//! than everything else it does (the internally tagged frames and authors are buffered through
//! serde's `Content`, and every error path formats numbers), and serializing a few KB more,
//! while reading and writing the few fields the panel uses costs almost nothing. The unit tests
//! check both ways against serde, which the gateway uses: every frame the gateway writes reads
//! back here as written, and everything written here reads back through serde as meant.

use protocol::{
    Attachment, Author, CaptchaChallenge, ChatMessage, SessionCreated, UploadPolicy,
    VisitorServerFrame,
};
use std::str::FromStr;
use wasm_bindgen::{JsCast, JsValue};

use crate::Options;

/// A JSON object: one parsed, or one being written.
struct Object(JsValue);

impl Object {
    fn new(value: JsValue) -> Option<Self> {
        value.is_object().then_some(Self(value))
    }

    fn parse(text: &str) -> Option<Self> {
        Self::new(js_sys::JSON::parse(text).ok()?)
    }

    fn field(&self, name: &str) -> JsValue {
        js_sys::Reflect::get(&self.0, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    fn text(&self, name: &str) -> Option<String> {
        self.field(name).as_string()
    }

    /// A whole number; JSON numbers are doubles, and the gateway's fit them exactly.
    fn int(&self, name: &str) -> Option<i64> {
        let number = self.field(name).as_f64()?;
        (number.fract() == 0.0 && number.abs() <= 9_007_199_254_740_991.0).then_some(number as i64)
    }

    fn object(&self, name: &str) -> Option<Self> {
        Self::new(self.field(name))
    }

    /// Each item of an array field read by `item`; None if any is not readable (a missing
    /// field is an empty list).
    fn list<T>(&self, name: &str, item: impl Fn(JsValue) -> Option<T>) -> Option<Vec<T>> {
        let field = self.field(name);
        if field.is_undefined() {
            return Some(Vec::new());
        }
        field
            .dyn_into::<js_sys::Array>()
            .ok()?
            .iter()
            .map(item)
            .collect()
    }

    /// One of a `named!` enum's names.
    fn name<T: FromStr>(&self, name: &str) -> Option<T> {
        self.text(name)?.parse().ok()
    }

    /// An object with these text fields, as JSON; a field without a value is left out.
    fn write(fields: &[(&str, Option<&str>)]) -> String {
        Self::write_with(fields, |_| {})
    }

    /// The same, with fields that are not text added by `more`.
    fn write_with(fields: &[(&str, Option<&str>)], more: impl FnOnce(&js_sys::Object)) -> String {
        let object = js_sys::Object::new();
        for (name, value) in fields {
            if let Some(value) = value {
                let _ = js_sys::Reflect::set(&object, &(*name).into(), &(*value).into());
            }
        }
        more(&object);
        js_sys::JSON::stringify(&object)
            .map(String::from)
            .unwrap_or_default()
    }
}

/// `VisitorClientFrame::Send`: the text and the ids of the files it carries.
pub fn send_frame(client_id: &str, text: &str, attachments: &[Attachment]) -> String {
    let fields = [
        ("type", Some("send")),
        ("client_id", Some(client_id)),
        ("text", Some(text)),
    ];
    Object::write_with(&fields, |object| {
        if !attachments.is_empty() {
            let ids: js_sys::Array = attachments
                .iter()
                .map(|file| JsValue::from_str(&file.id))
                .collect();
            let _ = js_sys::Reflect::set(object, &"attachments".into(), &ids);
        }
    })
}

/// `VisitorClientFrame::Email`.
pub fn email_frame(address: &str, transcript: bool) -> String {
    Object::write_with(
        &[("type", Some("email")), ("address", Some(address))],
        |object| {
            let _ = js_sys::Reflect::set(object, &"transcript".into(), &transcript.into());
        },
    )
}

/// `VisitorClientFrame::Typing`.
pub fn typing_frame() -> String {
    Object::write(&[("type", Some("typing"))])
}

/// The body of `POST /v1/sessions`.
/// The body of `POST /v1/sessions` (`CreateSession`), with what the host page adds
/// (`Options::session`).
pub fn create_session(
    channel_key: &str,
    visit_ticket: &str,
    page_url: Option<&str>,
    captcha_token: Option<&str>,
    from_page: &JsValue,
    greeted: bool,
) -> String {
    let fields = [
        ("channel_key", Some(channel_key)),
        ("visit_ticket", Some(visit_ticket)),
        ("page_url", page_url),
        ("captcha_token", captcha_token),
    ];
    Object::write_with(&fields, |object| {
        if let Some(from_page) = from_page.dyn_ref::<js_sys::Object>() {
            js_sys::Object::assign(object, from_page);
        }
        if greeted {
            let _ = js_sys::Reflect::set(object, &"greeted".into(), &JsValue::TRUE);
        }
    })
}

/// A frame from the visitor socket; None for one this panel does not know (a newer gateway's),
/// which it then ignores.
pub fn server_frame(value: JsValue) -> Option<VisitorServerFrame> {
    let frame = Object::new(value)?;
    Some(match frame.text("type")?.as_str() {
        "ready" => VisitorServerFrame::Ready {
            conversation_id: frame.text("conversation_id"),
            status: frame.name("status"),
            rated: frame.field("rated").as_bool().unwrap_or(false),
            cobrowse: None,
        },
        "message" => VisitorServerFrame::Message {
            message: message(&frame.object("message")?)?,
        },
        "typing" => VisitorServerFrame::Typing {
            agent_name: frame.text("agent_name")?,
        },
        "status" => VisitorServerFrame::Status {
            conversation_id: frame.text("conversation_id")?,
            status: frame.name("status")?,
        },
        "ack" => VisitorServerFrame::Ack {
            client_id: frame.text("client_id")?,
            conversation_id: frame.text("conversation_id")?,
            seq: frame.int("seq")?,
        },
        "error" => VisitorServerFrame::Error {
            code: frame.text("code")?,
            message: frame.text("message")?,
            client_id: frame.text("client_id"),
        },
        "email_saved" => VisitorServerFrame::EmailSaved {
            address: frame.text("address")?,
            transcript: frame.field("transcript").as_bool()?,
        },
        "session_ended" => VisitorServerFrame::SessionEnded {
            reason: frame.name("reason")?,
            after_secs: frame.int("after_secs")?,
        },
        _ => return None,
    })
}

fn message(message: &Object) -> Option<ChatMessage> {
    Some(ChatMessage {
        conversation_id: message.text("conversation_id")?,
        seq: message.int("seq")?,
        author: author(&message.object("author")?)?,
        text: message.text("text")?,
        client_id: message.text("client_id")?,
        sent_at_ms: message.int("sent_at_ms")?,
        attachments: message.list("attachments", |v| attachment(&Object::new(v)?))?,
    })
}

/// An attachment as the panel shows it (it fetches the bytes with its session, not a link).
fn attachment(file: &Object) -> Option<Attachment> {
    let pixels = |name| file.int(name).and_then(|n| u32::try_from(n).ok());
    Some(Attachment {
        id: file.text("id")?,
        name: file.text("name")?,
        content_type: file.text("content_type")?,
        size: u64::try_from(file.int("size")?).ok()?,
        width: pixels("width"),
        height: pixels("height"),
        url: file.text("url"),
    })
}

/// The 201 of an upload.
pub fn stored_file(text: &str) -> Option<Attachment> {
    attachment(&Object::parse(text)?)
}

fn author(author: &Object) -> Option<Author> {
    Some(match author.text("kind")?.as_str() {
        "visitor" => Author::Visitor,
        "agent" => Author::Agent {
            agent_id: author.text("agent_id")?,
            name: author.text("name")?,
        },
        "bot" => Author::Bot {
            name: author.text("name")?,
        },
        "desk" => Author::Desk {
            name: author.text("name")?,
        },
        "system" => Author::System,
        _ => return None,
    })
}

/// The code of a refusal's `error` (a [`protocol::ErrorDetail`]): the panel says it in the
/// visitor's words; building the whole type would bring in the code to drop its map of fields.
pub fn error_code(text: &str) -> Option<String> {
    Object::parse(text)?.object("error")?.text("code")
}

/// The session; of its upload policy only the size limit, which the panel checks before sending
/// (the kinds a channel takes are the gateway's to check: it reads the file's bytes).
pub fn session_created(text: &str) -> Option<SessionCreated> {
    let session = Object::parse(text)?;
    Some(SessionCreated {
        session_token: session.text("session_token")?,
        visitor_id: session.text("visitor_id")?,
        expires_in_secs: u64::try_from(session.int("expires_in_secs")?).ok()?,
        uploads: match session.object("uploads") {
            Some(uploads) => Some(UploadPolicy {
                max_bytes: u64::try_from(uploads.int("max_bytes")?).ok()?,
                kinds: Vec::new(),
            }),
            None => None,
        },
        email: session.field("email").as_bool().unwrap_or(false),
        missed_chat_secs: session
            .int("missed_chat_secs")
            .and_then(|secs| u64::try_from(secs).ok()),
        // Drawn by `form.js` from its JSON: see [`prechat_questions`].
        prechat: None,
        rating: session.name("rating"),
    })
}

/// The session's pre-chat questions as JSON, for `form.js` to draw (reading them into the
/// protocol's type here would cost the panel more than the form it feeds).
pub fn prechat_questions(session: &str) -> Option<String> {
    let questions = Object::parse(session)?.object("prechat")?;
    js_sys::JSON::stringify(&questions.0).ok().map(String::from)
}

/// The renewed visit ticket of a `VisibilityUpdate` (the panel uses no other field).
pub fn renewed_ticket(text: &str) -> Option<String> {
    Object::parse(text)?.text("visit_ticket")
}

/// What the loader passes to `mount`.
pub fn options(value: JsValue) -> Option<Options> {
    let options = Object::new(value)?;
    let appearance = options.object("appearance")?;
    // The proactive greeting the launcher showed, when there was one: the panel's first line.
    let proactive = options.text("greeting");
    Some(Options {
        gateway: options.text("gateway")?,
        channel: options.text("channel_key")?,
        ticket: options.text("visit_ticket")?,
        greeted: proactive.is_some(),
        appearance: crate::Look {
            title: appearance.text("title")?,
            greeting: match proactive {
                Some(greeting) => greeting,
                None => appearance.text("greeting")?,
            },
            sound: appearance.field("sound").as_bool().unwrap_or(false),
            theme: appearance.name("theme").unwrap_or_default(),
        },
        captcha: match options.object("captcha") {
            Some(captcha) => Some(CaptchaChallenge {
                provider: captcha.name("provider")?,
                site_key: captcha.text("site_key")?,
                script_url: captcha.text("script_url")?,
            }),
            None => None,
        },
        store: options.text("store")?,
        leave_message: options
            .object("leave_message")
            .map(|leave| protocol::LeaveMessage {
                back_at_ms: leave.int("back_at_ms"),
            }),
        session: options.field("session"),
        emit: options.field("emit").dyn_into().ok()?,
        close: options.field("close").dyn_into().ok()?,
        locale: options.text("locale"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use browser_socket::json;
    use protocol::{ConversationStatus, CreateSession, EndReason};
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Written as the gateway writes it (serde), read as the panel reads it.
    fn through_the_wire(frame: &VisitorServerFrame) -> Option<VisitorServerFrame> {
        server_frame(js_sys::JSON::parse(&json::stringify(frame)).unwrap())
    }

    fn message(author: Author) -> ChatMessage {
        ChatMessage {
            conversation_id: "c1".into(),
            seq: 9_007_199_254_740_991,
            author,
            text: "Hello <b>there</b>".into(),
            client_id: "m1".into(),
            sent_at_ms: 1_764_000_000_000,
            attachments: Vec::new(),
        }
    }

    #[wasm_bindgen_test]
    fn every_frame_reads_back_as_the_gateway_wrote_it() {
        let frames = [
            VisitorServerFrame::Ready {
                conversation_id: None,
                status: None,
                rated: false,
                cobrowse: None,
            },
            VisitorServerFrame::Ready {
                conversation_id: Some("c1".into()),
                status: Some(ConversationStatus::Closed),
                rated: true,
                cobrowse: None,
            },
            VisitorServerFrame::Message {
                message: message(Author::Visitor),
            },
            VisitorServerFrame::Message {
                message: message(Author::Agent {
                    agent_id: "a1".into(),
                    name: "Ada".into(),
                }),
            },
            VisitorServerFrame::Message {
                message: message(Author::Bot { name: "Bot".into() }),
            },
            VisitorServerFrame::Message {
                message: message(Author::Desk {
                    name: "Desk".into(),
                }),
            },
            VisitorServerFrame::Message {
                message: message(Author::System),
            },
            VisitorServerFrame::Message {
                message: ChatMessage {
                    text: String::new(),
                    attachments: vec![
                        Attachment {
                            id: "f1".into(),
                            name: "photo.png".into(),
                            content_type: "image/png".into(),
                            size: 10_485_760,
                            width: Some(4000),
                            height: Some(3000),
                            url: Some("https://gw.test/v1/files/f1?link=signed".into()),
                        },
                        Attachment {
                            id: "f2".into(),
                            name: "invoice.pdf".into(),
                            content_type: "application/pdf".into(),
                            size: 1,
                            width: None,
                            height: None,
                            url: None,
                        },
                    ],
                    ..message(Author::Visitor)
                },
            },
            VisitorServerFrame::Typing {
                agent_name: "Ada".into(),
            },
            VisitorServerFrame::Status {
                conversation_id: "c1".into(),
                status: ConversationStatus::Open,
            },
            VisitorServerFrame::Ack {
                client_id: "m1".into(),
                conversation_id: "c1".into(),
                seq: 3,
            },
            VisitorServerFrame::Error {
                code: "rate_limited".into(),
                message: "Slow down".into(),
                client_id: Some("m1".into()),
            },
            VisitorServerFrame::SessionEnded {
                reason: EndReason::Inactive,
                after_secs: 600,
            },
            VisitorServerFrame::EmailSaved {
                address: "ann@visitor.test".into(),
                transcript: true,
            },
        ];
        for frame in frames {
            assert_eq!(through_the_wire(&frame), Some(frame));
        }
    }

    /// Written here, read as the gateway reads it (serde).
    fn read_as_the_gateway<T: serde::de::DeserializeOwned>(text: &str) -> T {
        json::parse(text).unwrap_or_else(|| panic!("the gateway cannot read {text}"))
    }

    #[wasm_bindgen_test]
    fn what_the_panel_writes_reads_back_as_meant() {
        let text = "Hi \"you\"\n";
        for ids in [vec![], vec!["f1".to_owned(), "f2".to_owned()]] {
            let files: Vec<Attachment> = ids
                .iter()
                .map(|id| Attachment {
                    id: id.clone(),
                    name: "a.pdf".into(),
                    content_type: "application/pdf".into(),
                    size: 1,
                    width: None,
                    height: None,
                    url: None,
                })
                .collect();
            assert_eq!(
                read_as_the_gateway::<protocol::VisitorClientFrame>(&send_frame(
                    "m1", text, &files
                )),
                protocol::VisitorClientFrame::Send {
                    client_id: "m1".into(),
                    text: text.into(),
                    attachments: ids,
                }
            );
        }
        let prechat = protocol::PrechatQuestions {
            name: protocol::Ask::Required,
            email: protocol::Ask::Optional,
            phone: protocol::Ask::Off,
            topics: vec!["Sales".into(), "Support \"24/7\"".into()],
            consent: Some("I accept.".into()),
        };
        for (uploads, email, missed_chat_secs, prechat, rating) in [
            (None, false, None, None, None),
            (
                Some(protocol::default_upload_policy()),
                true,
                Some(60),
                Some(prechat),
                Some(protocol::RatingScale::Thumbs),
            ),
        ] {
            let mut session = SessionCreated {
                session_token: "t".into(),
                visitor_id: "v".into(),
                expires_in_secs: 3600,
                uploads,
                email,
                missed_chat_secs,
                prechat,
                rating,
            };
            let written = json::stringify(&session);
            let read = session_created(&written);
            // The questions go to `form.js` as JSON, as the gateway wrote them.
            let questions = prechat_questions(&written)
                .map(|text| json::parse::<protocol::PrechatQuestions>(&text).expect("JSON"));
            assert_eq!(questions, session.prechat.take());
            if let Some(policy) = &mut session.uploads {
                policy.kinds.clear();
            }
            assert_eq!(read, Some(session));
        }
        assert_eq!(
            read_as_the_gateway::<protocol::VisitorClientFrame>(&typing_frame()),
            protocol::VisitorClientFrame::Typing
        );
        for transcript in [false, true] {
            assert_eq!(
                read_as_the_gateway::<protocol::VisitorClientFrame>(&email_frame(text, transcript)),
                protocol::VisitorClientFrame::Email {
                    address: text.into(),
                    transcript
                }
            );
        }
        for (page_url, captcha_token) in [(None, None), (Some("https://site.test/a?b"), Some("t"))]
        {
            let request = CreateSession {
                channel_key: "demo".into(),
                visit_ticket: "t1".into(),
                page_url: page_url.map(Into::into),
                captcha_token: captcha_token.map(Into::into),
                ..CreateSession::default()
            };
            assert_eq!(
                read_as_the_gateway::<CreateSession>(&create_session(
                    "demo",
                    "t1",
                    page_url,
                    captcha_token,
                    &JsValue::UNDEFINED,
                    false
                )),
                request
            );
        }
        // What the host page adds, as the loader keeps it.
        let from_page =
            js_sys::JSON::parse(r#"{"identity_token":"h.p.s","attributes":{"plan":"pro"}}"#)
                .unwrap();
        let request = CreateSession {
            channel_key: "demo".into(),
            visit_ticket: "t1".into(),
            ..CreateSession::default()
        };
        assert_eq!(
            read_as_the_gateway::<CreateSession>(&create_session(
                "demo", "t1", None, None, &from_page, true
            )),
            CreateSession {
                identity_token: Some("h.p.s".into()),
                attributes: Some([("plan".to_owned(), "pro".to_owned())].into()),
                greeted: true,
                ..request
            }
        );
    }

    #[wasm_bindgen_test]
    fn what_the_panel_does_not_know_is_ignored_not_misread() {
        let read = |text: &str| server_frame(js_sys::JSON::parse(text).unwrap());
        assert_eq!(read(r#"{"type":"poll","question":"?"}"#), None);
        assert_eq!(
            read(r#"{"type":"ack","client_id":"m1","conversation_id":"c1","seq":1.5}"#),
            None
        );
        assert_eq!(
            read(r#"{"type":"status","conversation_id":"c1","status":"archived"}"#),
            None
        );
        assert_eq!(read(r#"[1,2]"#), None);
        assert_eq!(error_code("not json"), None);
        assert_eq!(
            error_code(r#"{"error":{"code":"visit_ticket_used","message":"Used."}}"#).as_deref(),
            Some("visit_ticket_used")
        );
    }
}
