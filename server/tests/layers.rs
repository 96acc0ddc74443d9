//! The house's rule, read from the sources: modules import only downward (README,
//! "Architecture"). Each file of `server/src` belongs to a storey; a `crate::` or `super::`
//! path may name a module of a lower storey, or of its own area, never one above nor a
//! sibling area's handlers. The one loop allowed is `AppState`, which holds a piece of
//! every storey and is passed to all of them. The `app` crate has no loop at all.
//!
//! `cargo test -p server --test layers -- --nocapture` prints the drawing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The storeys of `server/src`, top first: (storey, path prefixes relative to `src/`,
/// without `.rs`; `api$` is `api/mod.rs` alone). Longest prefix wins. A storey's areas (the first path segment) may not import each
/// other, except where the storey says so.
const STOREYS: &[(&str, &[&str])] = &[
    (
        "wiring",
        &[
            "main",
            "lib",
            "routes",
            "api$",
            "console",
            "housekeeping",
            "logging",
            "bootstrap",
            "metrics",
        ],
    ),
    ("handlers", &["api", "accounts", "webhooks", "oidc"]),
    ("shared", &["reply", "window", "audit", "outbox", "rows"]),
    ("auth", &["auth"]),
    (
        "base",
        &[
            "clock", "db", "config", "error", "extract", "limits", "net", "stamp", "state",
        ],
    ),
];

/// Modules anyone may import and that may import anyone: the state every handler gets.
const SHARED_STATE: &str = "state";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Module(Vec<String>);

impl Module {
    fn name(&self) -> String {
        if self.0.is_empty() {
            "crate".into()
        } else {
            self.0.join("::")
        }
    }
    fn rel(&self) -> String {
        self.0.join("/")
    }
}

/// Every module of a crate's `src/`, by file: `api/users.rs` is `api::users`,
/// `api/mod.rs` is `api`, `lib.rs`/`main.rs` are themselves.
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            found.insert(Module(parts), path);
        }
    }
    found
}

/// The source without comments, string and char literals (their text could look like paths).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&chars, i) {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Expands a `use` tree (`crate::{a::{b, c as d}, e}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let mut out = Vec::new();
    expand_into("", tree, &mut out);
    out
}

fn expand_into(prefix: &str, tree: &str, out: &mut Vec<String>) {
    for item in split_top(tree) {
        let item = item.trim();
        if let Some(open) = item.find('{') {
            let head: String = item[..open].split_whitespace().collect();
            let inner = &item[open + 1..item.rfind('}').unwrap_or(item.len())];
            expand_into(&join(prefix, head.trim_end_matches("::")), inner, out);
        } else {
            // `a::b as c` names `a::b`.
            let path: String = item
                .split(" as ")
                .next()
                .unwrap_or(item)
                .split_whitespace()
                .collect();
            out.push(join(prefix, &path));
        }
    }
}

fn join(prefix: &str, item: &str) -> String {
    match (prefix.is_empty(), item.is_empty()) {
        (true, _) => item.to_owned(),
        (_, true) => prefix.to_owned(),
        _ => format!("{prefix}::{item}"),
    }
}

/// Splits `a, b::{c, d}, e` at the commas outside braces.
fn split_top(tree: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in tree.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&tree[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tree[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The paths a module names: its `use` trees and inline `crate::`/`super::` paths, made
/// absolute (`crate::` dropped).
fn paths_named(module: &Module, code: &str) -> Vec<Vec<String>> {
    let mut raw = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before_ok = at == 0 || !rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let tail = &rest[at + 4..];
        let Some(end) = tail.find(';') else { break };
        if before_ok {
            raw.extend(expand(&tail[..end]));
        }
        rest = &tail[if before_ok { end } else { 0 }..];
    }
    // Inline paths: every `crate::` or `super::` followed by identifiers.
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(found) = code[from..].find(start) {
            let at = from + found;
            let before_ok = at == 0 || !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            let end = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| at + e);
            if before_ok {
                raw.push(code[at..end].trim_end_matches(':').to_owned());
            }
            from = end.max(at + start.len());
        }
    }
    raw.into_iter()
        .filter_map(|path| absolute(module, &path))
        .collect()
}

fn absolute(module: &Module, path: &str) -> Option<Vec<String>> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String>;
    match segments.first() {
        Some(&"crate") => {
            base = Vec::new();
            segments.remove(0);
        }
        Some(&"super") | Some(&"self") => {
            // A file's `self` is its module; `super` its parent. `mod tests` inside a file
            // uses `super::*` for its own file: that names nothing outside it.
            base = module.0.clone();
            while let Some(&first) = segments.first() {
                match first {
                    "self" => {}
                    "super" => {
                        base.pop()?;
                    }
                    _ => break,
                }
                segments.remove(0);
            }
        }
        _ => return None,
    }
    base.extend(segments.into_iter().map(str::to_owned));
    Some(base)
}

/// The module a path lands in: its longest prefix that is a module file.
fn resolve(path: &[String], known: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    (0..=path.len())
        .rev()
        .map(|n| Module(path[..n].to_vec()))
        .find(|m| known.contains_key(m))
}

/// Who imports whom (self-references and the crate root dropped).
fn graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let known = modules(src);
    let mut edges = BTreeMap::new();
    for (module, path) in &known {
        let code = code_only(&std::fs::read_to_string(path).unwrap());
        let mut to = BTreeSet::new();
        for named in paths_named(module, &code) {
            if let Some(target) = resolve(&named, &known)
                && target != *module
                && !target.0.is_empty()
            {
                to.insert(target);
            }
        }
        edges.insert(module.clone(), to);
    }
    edges
}

/// Tarjan's strongly connected components of more than one module: the loops.
fn loops(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a Module) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        w.on_stack.insert(v);
        for u in w.edges.get(v).into_iter().flatten() {
            let Some((u, _)) = w.edges.get_key_value(u) else {
                continue;
            };
            if !w.index.contains_key(u) {
                visit(w, u);
                let low = w.low[u].min(w.low[v]);
                w.low.insert(v, low);
            } else if w.on_stack.contains(u) {
                let low = w.index[u].min(w.low[v]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut component = Vec::new();
            while let Some(u) = w.stack.pop() {
                w.on_stack.remove(u);
                component.push(u.clone());
                if u == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                w.found.push(component);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            visit(&mut walk, v);
        }
    }
    walk.found
}

fn storey_of(module: &Module) -> (usize, &'static str) {
    let rel = module.rel();
    let mut best: Option<(usize, usize, &'static str)> = None;
    for (level, (_, prefixes)) in STOREYS.iter().enumerate() {
        for prefix in *prefixes {
            let (fits, len) = match prefix.strip_suffix('$') {
                Some(exact) => (rel == exact, usize::MAX),
                None => (
                    rel == *prefix || rel.starts_with(&format!("{prefix}/")),
                    prefix.len(),
                ),
            };
            if fits && best.is_none_or(|(_, longest, _)| len > longest) {
                best = Some((level, len, prefix.trim_end_matches('$')));
            }
        }
    }
    let (level, _, prefix) = best.unwrap_or_else(|| panic!("{rel}.rs is in no storey of tests/layers.rs"));
    (level, prefix)
}

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
        .join("src")
}

fn drawing(edges: &BTreeMap<Module, BTreeSet<Module>>) -> String {
    let mut text = String::new();
    for (module, to) in edges {
        let names: Vec<String> = to.iter().map(Module::name).collect();
        text.push_str(&format!("{} -> {}\n", module.name(), names.join(", ")));
    }
    text
}

#[test]
fn the_server_imports_only_downward_or_within_its_area() {
    let edges = graph(&crate_src("server"));
    println!("{}", drawing(&edges));
    let mut wrong = Vec::new();
    for (from, to) in &edges {
        let (from_level, from_area) = storey_of(from);
        for target in to {
            if from.0.first().map(String::as_str) == Some(SHARED_STATE)
                || target.0.first().map(String::as_str) == Some(SHARED_STATE)
            {
                continue;
            }
            let (to_level, to_area) = storey_of(target);
            // Down is always fine, and so is within one area. Sideways is fine on the lower
            // storeys (the loop test keeps them honest), never between handler areas.
            let handlers = STOREYS[from_level].0 == "handlers";
            if to_level > from_level || from_area == to_area || (to_level == from_level && !handlers) {
                continue;
            }
            wrong.push(format!(
                "{} ({}) imports {} ({})",
                from.name(),
                STOREYS[from_level].0,
                target.name(),
                STOREYS[to_level].0
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or sideways:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_server_has_no_loop_but_the_shared_state() {
    let mut edges = graph(&crate_src("server"));
    edges.retain(|module, _| module.0.first().map(String::as_str) != Some(SHARED_STATE));
    for to in edges.values_mut() {
        to.retain(|module| module.0.first().map(String::as_str) != Some(SHARED_STATE));
    }
    let found = loops(&edges);
    let shown: Vec<String> = found
        .iter()
        .map(|l| l.iter().map(Module::name).collect::<Vec<_>>().join(" <-> "))
        .collect();
    assert!(
        found.is_empty(),
        "loops among server modules:\n{}",
        shown.join("\n")
    );
}

#[test]
fn the_app_crate_has_no_loop() {
    let edges = graph(&crate_src("app"));
    println!("{}", drawing(&edges));
    let found = loops(&edges);
    let shown: Vec<String> = found
        .iter()
        .map(|l| l.iter().map(Module::name).collect::<Vec<_>>().join(" <-> "))
        .collect();
    assert!(found.is_empty(), "loops among app modules:\n{}", shown.join("\n"));
}

#[test]
fn use_trees_expand_and_comments_name_nothing() {
    assert_eq!(
        expand("crate::{a::{b, c as d},\n e}"),
        ["crate::a::b", "crate::a::c", "crate::e"]
    );
    let module = Module(vec!["api".into(), "users".into()]);
    let code = code_only("// crate::x\nlet s = \"crate::y\"; let c = '\"'; super::z::w();");
    let named = paths_named(&module, &code);
    assert_eq!(
        named,
        vec![vec!["api".to_owned(), "z".to_owned(), "w".to_owned()]]
    );
}
