//! `POST /v1/visitor/prechat`: the visitor's answers to the channel's pre-chat form, checked
//! field by field against what the channel asks and stored on their contact before the first
//! message. The topic picked chooses the queue that message's conversation waits in; the
//! consent is kept with the version of the text the visitor ticked and when.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::{Ask, Prechat, PrechatAnswers, PrechatQuestions, Problem};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthVisitor;
use crate::error::{ApiJson, Error, Result};
use crate::state::AppState;
use crate::store::PrechatContact;
use crate::{email, now_ms};

const MAX_NAME_CHARS: usize = 200;
const MAX_PHONE_CHARS: usize = 30;
const MIN_PHONE_DIGITS: usize = 5;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(answer))
}

/// Answer the pre-chat form.
///
/// With the session token, from the page the session was opened on. Every problem is reported
/// at once by field (`422 validation_failed`); nothing is stored unless all are right.
#[utoipa::path(
    post,
    path = "/v1/visitor/prechat",
    tag = "Widget",
    security(("visitorSession" = [])),
    request_body = PrechatAnswers,
    responses((status = 204, description = "Stored on the visitor's contact."))
)]
async fn answer(
    State(state): State<AppState>,
    visitor: AuthVisitor,
    ApiJson(answers): ApiJson<PrechatAnswers>,
) -> Result<StatusCode> {
    let checked = check(&visitor.channel.prechat, &answers)?;
    state
        .store
        .save_prechat(
            &visitor.channel.id,
            &visitor.claims.visitor_id,
            &checked,
            now_ms(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the visitor is asked, if the channel asks anything.
pub fn questions(prechat: &Prechat) -> Option<PrechatQuestions> {
    let asks = [prechat.name, prechat.email, prechat.phone]
        .iter()
        .any(|ask| *ask != Ask::Off)
        || !prechat.topics.is_empty()
        || prechat.consent.is_some();
    asks.then(|| PrechatQuestions {
        name: prechat.name,
        email: prechat.email,
        phone: prechat.phone,
        topics: prechat.topics.iter().map(|t| t.label.clone()).collect(),
        consent: prechat.consent.as_ref().map(|c| c.text.clone()),
    })
}

/// The answers as they are stored, or every problem by field.
pub fn check(prechat: &Prechat, answers: &PrechatAnswers) -> Result<PrechatContact> {
    let mut problems = BTreeMap::new();
    let mut field =
        |name: &str,
         ask: Ask,
         value: &Option<String>,
         parse: &dyn Fn(&str) -> std::result::Result<String, Problem>| {
            let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty());
            let outcome = match (ask, value) {
                (Ask::Off, Some(_)) => Err(Problem::NotAsked),
                (Ask::Required, None) => Err(Problem::Required),
                (_, None) => Ok(None),
                (_, Some(value)) => parse(value).map(Some),
            };
            outcome.unwrap_or_else(|problem| {
                problems.insert(name.to_owned(), problem);
                None
            })
        };
    let name = field("name", prechat.name, &answers.name, &|name| {
        if name.chars().count() > MAX_NAME_CHARS {
            Err(Problem::AtMostCharacters {
                max: MAX_NAME_CHARS as u64,
            })
        } else if name.chars().any(char::is_control) {
            Err(Problem::OneLine)
        } else {
            Ok(name.to_owned())
        }
    });
    let address = field("email", prechat.email, &answers.email, &|raw| {
        email::valid_address(raw).map_err(|_| Problem::Email)
    });
    let phone = field("phone", prechat.phone, &answers.phone, &|phone| {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if allowed && digits >= MIN_PHONE_DIGITS && phone.chars().count() <= MAX_PHONE_CHARS {
            Ok(phone.to_owned())
        } else {
            Err(Problem::Phone)
        }
    });
    let topic = answers
        .topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let queue_id = match (prechat.topics.is_empty(), topic) {
        (true, None) => None,
        (true, Some(_)) => {
            problems.insert("topic".into(), Problem::NotAsked);
            None
        }
        (false, None) => {
            problems.insert("topic".into(), Problem::Required);
            None
        }
        (false, Some(label)) => match prechat.topics.iter().find(|t| t.label == label) {
            Some(topic) => Some(topic.queue_id.clone()),
            None => {
                problems.insert(
                    "topic".into(),
                    Problem::OneOf {
                        allowed: prechat.topics.iter().map(|t| t.label.clone()).collect(),
                    },
                );
                None
            }
        },
    };
    let consent_version = match (&prechat.consent, answers.consent) {
        (Some(consent), true) => Some(consent.version.clone()),
        (Some(_), false) => {
            problems.insert("consent".into(), Problem::ConsentNeeded);
            None
        }
        (None, true) => {
            problems.insert("consent".into(), Problem::NotAsked);
            None
        }
        (None, false) => None,
    };
    if !problems.is_empty() {
        return Err(Error::Validation(problems));
    }
    Ok(PrechatContact {
        name,
        email: address,
        phone,
        queue_id,
        consent_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Consent, Topic};

    fn form() -> Prechat {
        Prechat {
            name: Ask::Required,
            email: Ask::Optional,
            phone: Ask::Off,
            topics: vec![
                Topic {
                    label: "Sales".into(),
                    queue_id: "sales".into(),
                },
                Topic {
                    label: "Support".into(),
                    queue_id: "support".into(),
                },
            ],
            consent: Some(Consent {
                text: "I accept the privacy policy.".into(),
                version: "2026-11".into(),
            }),
        }
    }

    #[test]
    fn good_answers_are_kept_with_the_topics_queue_and_the_consents_version() {
        let answers = PrechatAnswers {
            name: Some(" Ann ".into()),
            email: Some("ann@visitor.test".into()),
            topic: Some("Support".into()),
            consent: true,
            ..PrechatAnswers::default()
        };
        assert_eq!(
            check(&form(), &answers).unwrap(),
            PrechatContact {
                name: Some("Ann".into()),
                email: Some("ann@visitor.test".into()),
                phone: None,
                queue_id: Some("support".into()),
                consent_version: Some("2026-11".into()),
            }
        );
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let answers = PrechatAnswers {
            name: Some("  ".into()),
            email: Some("not an address".into()),
            phone: Some("555 0100".into()),
            topic: Some("Billing".into()),
            consent: false,
        };
        let Err(Error::Validation(problems)) = check(&form(), &answers) else {
            panic!("refused");
        };
        let fields: Vec<&str> = problems.keys().map(String::as_str).collect();
        assert_eq!(fields, ["consent", "email", "name", "phone", "topic"]);
        assert_eq!(problems["name"], Problem::Required);
        assert_eq!(problems["phone"], Problem::NotAsked);
    }

    #[test]
    fn a_channel_asking_nothing_shows_no_form() {
        assert_eq!(questions(&Prechat::default()), None);
        let asked = questions(&form()).unwrap();
        assert_eq!(asked.topics, ["Sales", "Support"]);
        assert_eq!(
            asked.consent.as_deref(),
            Some("I accept the privacy policy.")
        );
    }
}
