//! History: every conversation, closed ones included, newest first (`GET /v1/conversations`),
//! narrowed by channel, queue, agent, status, rating, period and label, and found by the words
//! of its messages or its contact; the line that matched shows with the words marked. A row
//! opens the conversation in the inbox; its transcript downloads as text or HTML.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{ConversationStatus, ErrorDetail, HistoryItem, HistoryPage};

use crate::api::call;
use crate::desk::Desk;
use crate::details::describe_rating;
use crate::words::{fill, t};

/// The filters as the page holds them: each empty when not used.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filters {
    pub q: String,
    pub channel_id: String,
    pub queue_id: String,
    pub agent_id: String,
    pub status: String,
    pub rating: String,
    /// `YYYY-MM-DD`, in the agent's time zone.
    pub from_day: String,
    pub to_day: String,
    pub label: String,
}

impl Filters {
    /// The query of `/v1/conversations` for these filters, after `cursor`.
    pub fn query(&self, cursor: Option<&str>) -> String {
        let day = |day: &str, next: bool| -> Option<String> {
            let date = js_sys::Date::new(&format!("{day}T00:00:00").into());
            let ms = date.get_time();
            (!ms.is_nan()).then(|| (ms as i64 + if next { 86_400_000 } else { 0 }).to_string())
        };
        let mut pairs = vec![
            ("q", Some(self.q.trim().to_owned())),
            ("channel_id", Some(self.channel_id.clone())),
            ("queue_id", Some(self.queue_id.clone())),
            ("agent_id", Some(self.agent_id.clone())),
            ("status", Some(self.status.clone())),
            ("rating", Some(self.rating.clone())),
            ("from_ms", day(&self.from_day, false)),
            ("to_ms", day(&self.to_day, true)),
            ("label", Some(self.label.trim().to_owned())),
        ];
        pairs.push(("cursor", cursor.map(str::to_owned)));
        let query: Vec<String> = pairs
            .into_iter()
            .filter_map(|(name, value)| value.filter(|v| !v.is_empty()).map(|v| (name, v)))
            .map(|(name, value)| {
                format!(
                    "{name}={}",
                    String::from(js_sys::encode_uri_component(&value))
                )
            })
            .collect();
        format!("/v1/conversations?{}", query.join("&"))
    }
}

/// `text` in pieces, each marked when it is a word that starts with one of `words` (as the
/// gateway matched them: any case, each word of the search the start of a word).
pub fn marked(text: &str, words: &[String]) -> Vec<(String, bool)> {
    let mut pieces: Vec<(String, bool)> = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, pieces: &mut Vec<(String, bool)>| {
        if !word.is_empty() {
            let lower = word.to_lowercase();
            let hit = words.iter().any(|w| lower.starts_with(w.as_str()));
            pieces.push((std::mem::take(word), hit));
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut pieces);
        match pieces.last_mut() {
            Some((last, false)) => last.push(c),
            _ => pieces.push((c.to_string(), false)),
        }
    }
    flush(&mut word, &mut pieces);
    // Neighbours that are not marked read as one piece.
    let mut joined: Vec<(String, bool)> = Vec::new();
    for (piece, hit) in pieces {
        match joined.last_mut() {
            Some((last, false)) if !hit => last.push_str(&piece),
            _ => joined.push((piece, hit)),
        }
    }
    joined
}

pub fn history_page(
    is_admin: bool,
    to_inbox: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let filters = RwSignal::new(Filters::default());
    let typed = RwSignal::new(Filters::default());
    let rows = RwSignal::new(Vec::<HistoryItem>::new());
    let next = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ErrorDetail>);
    let load = move |cursor: Option<String>| {
        let url = filters.with_untracked(|f| f.query(cursor.as_deref()));
        leptos::task::spawn_local(async move {
            match call::<HistoryPage>(Request::get(&url), None).await {
                Ok(page) => {
                    error.set(None);
                    next.set(page.next_cursor);
                    rows.update(|list| {
                        if cursor.is_none() {
                            list.clear();
                        }
                        list.extend(page.conversations);
                    });
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    Effect::new(move |_| {
        filters.track();
        load(None);
    });
    let channels = crate::api::channel_choices(is_admin);
    let team = desk.team;
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        filters.set(typed.get_untracked());
    };
    let field = move |testid: &'static str,
                      label: String,
                      kind: &'static str,
                      get: fn(&Filters) -> &String,
                      set: fn(&mut Filters, String)| {
        view! {
            <label>{label}" "
                <input type=kind data-testid=testid prop:value=move || typed.with(|f| get(f).clone())
                    on:input=move |ev| typed.update(|f| set(f, event_target_value(&ev)))
                    on:change=move |_| if kind != "search" { filters.set(typed.get_untracked()) } />
            </label>
        }
    };
    let choice = move |testid: &'static str,
                       label: String,
                       options: Signal<Vec<(String, String)>>,
                       set: fn(&mut Filters, String)| {
        view! {
            <label>{label}" "
                <select data-testid=testid on:change=move |ev| {
                    typed.update(|f| set(f, event_target_value(&ev)));
                    filters.set(typed.get_untracked());
                }>
                    {move || options.get().into_iter().map(|(value, name)| view! { <option value=value>{name}</option> }).collect_view()}
                </select>
            </label>
        }
    };
    let any = |label: String| (String::new(), label);
    let statuses = Signal::derive(move || {
        std::iter::once(any(t("any_status")))
            .chain(
                ConversationStatus::ALL
                    .iter()
                    .map(|s| (s.as_str().to_owned(), t(&format!("state_{}", s.as_str())))),
            )
            .collect()
    });
    let ratings = Signal::derive(move || {
        std::iter::once(any(t("any_rating")))
            .chain((1..=5).rev().map(|n| {
                (
                    n.to_string(),
                    fill("rating_of", &[("score", &n.to_string())]),
                )
            }))
            .chain(std::iter::once(("none".to_owned(), t("not_rated"))))
            .collect()
    });
    let queues = Signal::derive(move || {
        std::iter::once(any(t("all_queues")))
            .chain(team.with(|t| {
                t.queues
                    .iter()
                    .map(|q| (q.id.clone(), q.name.clone()))
                    .collect::<Vec<_>>()
            }))
            .collect()
    });
    let agents = Signal::derive(move || {
        std::iter::once(any(t("all_agents")))
            .chain(team.with(|t| {
                t.agents
                    .iter()
                    .map(|a| (a.id.clone(), a.name.clone()))
                    .collect::<Vec<_>>()
            }))
            .collect()
    });
    let channel_options = Signal::derive(move || {
        std::iter::once(any(t("all_channels")))
            .chain(channels.with(|list| {
                list.iter()
                    .map(|c| (c.id.clone(), c.name.clone()))
                    .collect::<Vec<_>>()
            }))
            .collect()
    });
    let desk = StoredValue::new_local(desk);
    let row = move |item: HistoryItem| {
        let c = item.conversation;
        let words = filters.with_untracked(|f| protocol::search_words(&f.q));
        let line = item.matched.map(|m| {
            let pieces = marked(&m.text, &words)
                .into_iter()
                .map(|(piece, hit)| {
                    if hit {
                        view! { <mark>{piece}</mark> }.into_any()
                    } else {
                        piece.into_any()
                    }
                })
                .collect_view();
            view! { <p class="matched" data-testid="history-match">{pieces}</p> }
        });
        let who = item
            .contact_name
            .or(item.contact_email)
            .unwrap_or_else(|| t("anonymous_visitor"));
        let found = c.clone();
        let open = move |_| {
            desk.with_value(|d| d.open_found(found.clone()));
            to_inbox();
        };
        let when = crate::time::local_time(c.updated_at_ms);
        let rating = c.rating.as_ref().map(|r| {
            view! { <span class="rating" aria-label=fill("rating_of", &[("score", &r.score.to_string())])>{describe_rating(r)}</span> }
        });
        let text_link = format!("/v1/conversations/{}/transcript", c.id);
        let html_link = format!("{text_link}?format=html");
        view! {
            <li class="history-row" data-testid="history-row">
                <button class="link" data-testid="history-open" on:click=open>{who}</button>
                " "<span class="badge">{t(&format!("state_{}", c.status.as_str()))}</span>
                " "{rating}
                " "<span class="muted">{c.channel_name.clone()}" · "{when}</span>
                {line.map(IntoAny::into_any).unwrap_or_else(|| view! { <p class="matched">{c.last_text.clone()}</p> }.into_any())}
                <span class="downloads">
                    <a class="link" data-testid="transcript-text" href=text_link download="">{t("download_text")}</a>
                    " "<a class="link" data-testid="transcript-html" href=html_link download="">{t("download_html")}</a>
                </span>
            </li>
        }
    };
    view! {
        <section class="history" data-testid="history" aria-labelledby="history-title">
            <h2 id="history-title">{t("history")}</h2>
            <form class="history-filters" role="search" on:submit=search>
                {field("history-search", t("search_conversations"), "search", |f| &f.q, |f, v| f.q = v)}
                <button type="submit" data-testid="history-find">{t("find")}</button>
                {is_admin.then(|| choice("history-channel", t("channel"), channel_options, |f, v| f.channel_id = v))}
                {choice("history-queue", t("queues"), queues, |f, v| f.queue_id = v)}
                {choice("history-agent", t("agents"), agents, |f, v| f.agent_id = v)}
                {choice("history-status", t("state"), statuses, |f, v| f.status = v)}
                {choice("history-rating", t("rating"), ratings, |f, v| f.rating = v)}
                {field("history-from", t("from_day"), "date", |f| &f.from_day, |f, v| f.from_day = v)}
                {field("history-to", t("to_day"), "date", |f| &f.to_day, |f, v| f.to_day = v)}
                {field("history-label", t("labels"), "text", |f| &f.label, |f, v| f.label = v)}
            </form>
            {move || error.get().map(|e| view! { <p class="error">{e.message}</p> })}
            <ul class="history-list" data-testid="history-list">
                {move || rows.get().into_iter().map(row).collect_view()}
            </ul>
            {move || rows.with(Vec::is_empty).then(|| view! { <p data-testid="history-empty">{t("nothing_found")}</p> })}
            {move || next.get().map(|cursor| view! {
                <button class="link" data-testid="history-more" on:click=move |_| load(Some(cursor.clone()))>{t("show_more")}</button>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn words_that_start_with_a_search_word_are_marked() {
        let words = protocol::search_words("заказ 4");
        assert_eq!(
            marked("Где мой Заказа, номер 42?", &words),
            vec![
                ("Где мой ".to_owned(), false),
                ("Заказа".to_owned(), true),
                (", номер ".to_owned(), false),
                ("42".to_owned(), true),
                ("?".to_owned(), false),
            ]
        );
        assert_eq!(marked("", &words), vec![]);
    }

    #[wasm_bindgen_test]
    fn the_query_names_only_the_filters_used() {
        let filters = Filters {
            q: " ação & co ".into(),
            rating: "none".into(),
            ..Filters::default()
        };
        assert_eq!(
            filters.query(Some("abc")),
            "/v1/conversations?q=a%C3%A7%C3%A3o%20%26%20co&rating=none&cursor=abc"
        );
        assert_eq!(Filters::default().query(None), "/v1/conversations?");
    }
}
