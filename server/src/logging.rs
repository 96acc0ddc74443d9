//! The process's log: text (coloured only at a terminal) or one JSON object per line, and
//! which lines `RUST_LOG` lets through (default `info,sqlx=warn`).
//!
//! `RUST_LOG` made only of `target=level` directives (the usual case) becomes a `Targets`
//! filter; one that names spans or fields (`[request{path=/v1/user}]=debug`) becomes an
//! `EnvFilter`. Both read the same syntax, but `EnvFilter` keeps a map of the spans it
//! might match and takes its read lock at each span's creation, entry, exit and close, even
//! when no directive names a span: four or more times a request, on a lock word that both
//! cores write to (bench/README.md).
//!
//! Text lines write their fields through `Fields`: the same text as tracing-subscriber's
//! own, but a plain `name=value` is written directly when there are no colours, where the
//! default styles the name and the `=` with empty styles first; and without colours
//! `Presized` writes each span's fields into a string made large enough at once, where the
//! fmt layer grows one from empty. Together about half of what each request's span cost
//! (bench/README.md).

use crate::config::LogFormat;
use std::fmt::{self as text, Debug};
use std::io::IsTerminal;
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::{FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::Context;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

const DEFAULT: &str = "info,sqlx=warn";

/// Installs the log for this process, to standard output; an unusable `RUST_LOG` is
/// reported in the log and the default used.
pub fn init(format: LogFormat) {
    // Unset or empty: the default (an empty `Targets` would log nothing at all).
    let directives = std::env::var("RUST_LOG")
        .ok()
        .filter(|directives| !directives.trim().is_empty())
        .unwrap_or_else(|| DEFAULT.into());
    let ansi = std::io::stdout().is_terminal();
    init_with(format, &directives, ansi, std::io::stdout);
}

/// `init` with the directives, colours and output given (`server/examples/hotpath.rs`
/// formats every line as the portal does and drops it).
pub fn init_with<W>(format: LogFormat, directives: &str, ansi: bool, writer: W)
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let (filter, complaint) = match Filter::parse(directives) {
        Ok(filter) => (filter, None),
        Err(complaint) => (
            Filter::parse(DEFAULT).expect("the default directives parse"),
            Some(complaint),
        ),
    };
    let filter = match filter {
        Filter::Targets(targets) => targets.boxed(),
        Filter::Spans(filter) => filter.boxed(),
    };
    let presized = (format == LogFormat::Text && !ansi).then_some(Presized);
    let lines = match format {
        LogFormat::Text => fmt::layer()
            .with_ansi(ansi)
            .fmt_fields(Fields)
            .with_writer(writer)
            .boxed(),
        // One object per line; the request's span (its `request_id`) is in each.
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(presized)
        .with(lines)
        .init();
    if let Some(complaint) = complaint {
        tracing::warn!("RUST_LOG is not usable ({complaint}); logging with {DEFAULT}");
    }
}

#[derive(Debug)]
#[allow(clippy::large_enum_variant, reason = "one, made once per process")]
enum Filter {
    /// Targets and levels only.
    Targets(Targets),
    /// Directives that name spans or fields.
    Spans(EnvFilter),
}

impl Filter {
    fn parse(directives: &str) -> Result<Filter, String> {
        if let Ok(targets) = directives.parse::<Targets>() {
            return Ok(Filter::Targets(targets));
        }
        EnvFilter::try_new(directives)
            .map(Filter::Spans)
            .map_err(|err| err.to_string())
    }
}

/// Writes a new span's fields for the text lines (`Fields`, no colours) into a string of
/// `SPAN_FIELDS` bytes, before the fmt layer would (it writes them only when no layer has).
/// A request's three fields grew an empty string five times.
struct Presized;

const SPAN_FIELDS: usize = 128;

impl<S> Layer<S> for Presized
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut fields = FormattedFields::<Fields>::new(String::with_capacity(SPAN_FIELDS));
        if Fields.format_fields(fields.as_writer(), attrs).is_ok() {
            span.extensions_mut().insert(fields);
        }
    }
}

/// tracing-subscriber's `DefaultFields`, with a shortcut for plain fields without colours.
struct Fields;

impl<'writer> FormatFields<'writer> for Fields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> text::Result {
        let mut visitor = FieldsVisitor {
            writer,
            is_empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct FieldsVisitor<'writer> {
    writer: Writer<'writer>,
    is_empty: bool,
    result: text::Result,
}

impl FieldsVisitor<'_> {
    /// One field written by tracing-subscriber's own visitor: messages (it neutralises
    /// terminal escapes in them), errors (their sources), `r#` names, and everything
    /// when there are colours.
    fn by_default(&mut self, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        if self.result.is_err() {
            return;
        }
        let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut visitor);
        self.result = visitor.finish();
        self.is_empty = false;
    }
}

impl Visit for FieldsVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let name = field.name();
        // The `log` crate's metadata, which the line shows elsewhere (as the default does).
        if name.starts_with("log.") {
            return;
        }
        if name == "message" || name.starts_with("r#") || self.writer.has_ansi_escapes() {
            return self.by_default(|visitor| visitor.record_debug(field, value));
        }
        if self.result.is_err() {
            return;
        }
        let space = if self.is_empty { "" } else { " " };
        self.is_empty = false;
        // The name and '=' as plain strings: through `write!` they cost as much as the value.
        self.result = (self.writer.write_str(space))
            .and_then(|()| self.writer.write_str(name))
            .and_then(|()| self.writer.write_char('='))
            .and_then(|()| write!(self.writer, "{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name().starts_with("log.") {
            return;
        }
        self.by_default(|visitor| visitor.record_str(field, value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.by_default(|visitor| visitor.record_error(field, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::format::DefaultFields;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("the outer failure")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("the inner cause")]
    struct Inner;

    /// What a text log writes for lines with every kind of field, the fields written by
    /// `fields`, each span's first by `Presized` too when `presized`.
    fn written<N>(fields: N, ansi: bool, presized: bool) -> String
    where
        N: for<'writer> FormatFields<'writer> + Send + Sync + 'static,
    {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::registry()
            .with(presized.then_some(Presized))
            .with(
                fmt::layer()
                    .without_time()
                    .with_ansi(ansi)
                    .fmt_fields(fields)
                    .with_writer(move || sink.clone()),
            );
        tracing::subscriber::with_default(subscriber, || {
            let request =
                tracing::info_span!("request", request_id = %"abc-1", method = %"GET", path = %"/v1/user");
            let _entered = request.enter();
            tracing::info!("a plain message");
            tracing::info!(count = 3, ok = true, ratio = 0.5, name = "alice", shown = %"bob", r#type = "t", "fields");
            tracing::warn!(message = "a message given as a str", extra = ?Some(1));
            tracing::error!(error = &Outer(Inner) as &dyn std::error::Error, "failed");
            tracing::error!(error = &Inner as &dyn std::error::Error);
            tracing::info!("an escape \u{1b}[31m in a message");
            tracing::info!(empty = "", "");
            let late = tracing::info_span!("late", first = tracing::field::Empty, n = 1);
            late.record("first", "recorded later");
            late.in_scope(|| tracing::info!(key = %"value"));
        });
        let bytes = lines.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn fields_are_written_as_tracing_subscriber_writes_them() {
        for (ansi, presized) in [(false, false), (false, true), (true, false)] {
            let ours = written(Fields, ansi, presized);
            let theirs = written(DefaultFields::new(), ansi, false);
            assert_eq!(ours, theirs, "colours: {ansi}, presized: {presized}");
            assert_eq!(ours.lines().count(), 8, "{ours}");
        }
        let plain = written(Fields, false, true);
        assert!(
            plain.contains("request{request_id=abc-1 method=GET path=/v1/user}"),
            "{plain}"
        );
        assert!(plain.contains("error.sources=[the inner cause]"), "{plain}");
        assert!(plain.contains("late{n=1 first=\"recorded later\"}"), "{plain}");
    }

    #[test]
    fn plain_directives_need_no_span_tracking() {
        for directives in [
            DEFAULT,
            "warn,server::auth=debug,tower_http=trace",
            "off",
            "debug",
        ] {
            assert!(
                matches!(Filter::parse(directives), Ok(Filter::Targets(_))),
                "{directives}"
            );
        }
    }

    #[test]
    fn span_and_field_directives_keep_them() {
        assert!(matches!(
            Filter::parse("info,[request{path=/v1/user}]=debug"),
            Ok(Filter::Spans(_))
        ));
    }

    #[test]
    fn unusable_directives_are_refused_with_a_reason() {
        let complaint = Filter::parse("info,server=loud").unwrap_err();
        assert!(!complaint.is_empty());
    }
}
