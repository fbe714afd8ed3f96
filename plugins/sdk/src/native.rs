//! Thread-local stand-in for the host in native builds, driven by
//! [`crate::testing`].

use std::cell::RefCell;

use crate::log::Level;

#[derive(Default)]
struct State {
    title: String,
    body: String,
    logs: Vec<(Level, String)>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

pub(crate) fn note_title() -> String {
    STATE.with_borrow(|state| state.title.clone())
}

pub(crate) fn note_body() -> String {
    STATE.with_borrow(|state| state.body.clone())
}

pub(crate) fn log(level: Level, message: &str) {
    STATE.with_borrow_mut(|state| state.logs.push((level, message.to_owned())));
}

pub(crate) fn set_note(title: &str, body: &str) {
    STATE.with_borrow_mut(|state| {
        state.title = title.to_owned();
        state.body = body.to_owned();
    });
}

pub(crate) fn take_logs() -> Vec<(Level, String)> {
    STATE.with_borrow_mut(|state| std::mem::take(&mut state.logs))
}
