//! The audit log, newest first (roles 3 and 4; a business admin sees its business's).

use crate::client;
use crate::components::{Pager, error_row, format_time, note_row};
use crate::i18n::{T, use_i18n};
use crate::model::{AuditEntry, Page, PageQuery, PageSize};
use leptos::prelude::*;

#[component]
pub fn Audit() -> impl IntoView {
    let i18n = use_i18n();
    let page = RwSignal::new(1u32);
    let size = RwSignal::new(20u32);
    let entries = LocalResource::new(move || {
        let query = PageQuery {
            page: Page::new(page.get()).unwrap_or_default(),
            page_size: PageSize::new(size.get()).unwrap_or_default(),
        };
        async move { client::get::<Vec<AuditEntry>>(&client::with_query("/v1/admin/audit", &query)).await }
    });
    let total = Signal::derive(move || {
        entries
            .get()
            .and_then(|r| r.ok())
            .and_then(|e| e.total)
            .unwrap_or(0)
    });
    view! {
        <section class="card wide">
            <h1>{i18n.t(T::AuditLog)}</h1>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th>{i18n.t(T::Time)}</th>
                            <th>{i18n.t(T::Actor)}</th>
                            <th>{i18n.t(T::Action)}</th>
                            <th>{i18n.t(T::Target)}</th>
                            <th>{i18n.t(T::Detail)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || match entries.get() {
                            None => note_row("5", i18n.t(T::Loading)),
                            Some(Err(failure)) => error_row("5", failure.message),
                            Some(Ok(envelope)) => {
                                envelope
                                    .data
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|e| {
                                        let action = e.action.clone();
                                        view! {
                                            <tr data-action=action>
                                                <td>{format_time(e.create_time)}</td>
                                                <td>{e.actor}</td>
                                                <td><code>{e.action}</code></td>
                                                <td>{format!("{} {}", e.target_type, e.target_id)}</td>
                                                <td>{e.detail}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()
                                    .into_any()
                            }
                        }}
                    </tbody>
                </table>
            </div>
            <Pager page size total />
        </section>
    }
}
