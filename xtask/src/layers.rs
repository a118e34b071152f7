//! `cargo xtask layers`: no module imports one that imports it back.
//!
//! Each crate's modules are read from its `src/` tree (a file is a module; `mod.rs`, `lib.rs`
//! and `main.rs` name their directory). Every `crate::…` and `super::…` path in code (comments
//! stripped) is an edge to the deepest module it names. An edge is lifted to the level where the
//! two modules part: `store::conversations → store::outbox` is a sibling edge inside `store`,
//! `store::agents → rules::counts` is `store → rules` at the crate's root. A parent using its
//! own child (or the child its parent) is structure, not an import, and is not counted. A cycle
//! is a strongly connected group of more than one sibling; any cycle fails `cargo xtask test`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::paths;
use crate::run::Result;

/// The crates whose module graphs must stay acyclic.
const CRATES: &[&str] = &[
    "protocol",
    "gateway",
    "widget",
    "console",
    "browser-socket",
    "tests",
];

pub fn main(_args: &[String]) -> Result {
    let cycles = check()?;
    if cycles.is_empty() {
        println!(
            "layers: no module imports one that imports it back ({} crates)",
            CRATES.len()
        );
        return Ok(());
    }
    for cycle in &cycles {
        println!("layers: cycle {cycle}");
    }
    Err(format!("{} import cycle(s)", cycles.len()))
}

/// Every cycle in every crate, as `crate: a ↔ b ↔ c` lines.
pub fn check() -> Result<Vec<String>> {
    let mut found = Vec::new();
    for name in CRATES {
        let src = paths::root().join(name).join("src");
        let graph = ModuleGraph::read(&src)?;
        for group in graph.cycles() {
            let mut line = format!("{name}: {}", group.join(" ↔ "));
            for ((from, to), reasons) in &graph.because {
                if group.contains(&display(from)) && group.contains(&display(to)) {
                    for reason in reasons {
                        line.push_str(&format!("\n    {reason}"));
                    }
                }
            }
            found.push(line);
        }
    }
    Ok(found)
}

type ModulePath = Vec<String>;

struct ModuleGraph {
    modules: BTreeSet<ModulePath>,
    uses: BTreeMap<ModulePath, BTreeSet<ModulePath>>,
    /// For each lifted edge, the file modules and paths that make it, for the failure message.
    because: BTreeMap<(ModulePath, ModulePath), BTreeSet<String>>,
}

impl ModuleGraph {
    fn read(src: &Path) -> Result<Self> {
        let mut files = Vec::new();
        collect_rs(src, &mut files)?;
        let sources: Vec<(ModulePath, String)> = files
            .iter()
            .map(|file| {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                Ok((module_of(src, file), strip_comments(&text)))
            })
            .collect::<Result<_>>()?;
        let modules: BTreeSet<ModulePath> = sources.iter().map(|(m, _)| m.clone()).collect();
        let mut uses: BTreeMap<ModulePath, BTreeSet<ModulePath>> = BTreeMap::new();
        let mut because: BTreeMap<(ModulePath, ModulePath), BTreeSet<String>> = BTreeMap::new();
        for (module, text) in &sources {
            for path in referenced_paths(module, text) {
                let target = deepest_module(&modules, &path);
                if let Some((from, to)) = lift(module, &target) {
                    uses.entry(from.clone()).or_default().insert(to.clone());
                    because.entry((from, to)).or_default().insert(format!(
                        "{} uses {}",
                        display(module),
                        display(&path)
                    ));
                }
            }
        }
        Ok(Self {
            modules,
            uses,
            because,
        })
    }

    /// Strongly connected groups of more than one module (Tarjan's algorithm).
    fn cycles(&self) -> Vec<Vec<String>> {
        let nodes: Vec<&ModulePath> = self
            .modules
            .iter()
            .chain(self.uses.values().flatten())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let index_of: BTreeMap<&ModulePath, usize> =
            nodes.iter().enumerate().map(|(i, m)| (*m, i)).collect();
        let edges: Vec<Vec<usize>> = nodes
            .iter()
            .map(|m| {
                self.uses
                    .get(*m)
                    .into_iter()
                    .flatten()
                    .map(|t| index_of[t])
                    .collect()
            })
            .collect();
        let mut tarjan = Tarjan {
            edges: &edges,
            index: vec![None; nodes.len()],
            low: vec![0; nodes.len()],
            on_stack: vec![false; nodes.len()],
            stack: Vec::new(),
            next: 0,
            groups: Vec::new(),
        };
        for node in 0..nodes.len() {
            if tarjan.index[node].is_none() {
                tarjan.visit(node);
            }
        }
        let mut groups: Vec<Vec<String>> = tarjan
            .groups
            .into_iter()
            .filter(|g| g.len() > 1)
            .map(|g| {
                let mut names: Vec<String> = g.iter().map(|&i| display(nodes[i])).collect();
                names.sort();
                names
            })
            .collect();
        groups.sort();
        groups
    }
}

struct Tarjan<'a> {
    edges: &'a [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
    groups: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    fn visit(&mut self, node: usize) {
        self.index[node] = Some(self.next);
        self.low[node] = self.next;
        self.next += 1;
        self.stack.push(node);
        self.on_stack[node] = true;
        for &next in &self.edges[node] {
            match self.index[next] {
                None => {
                    self.visit(next);
                    self.low[node] = self.low[node].min(self.low[next]);
                }
                Some(index) if self.on_stack[next] => self.low[node] = self.low[node].min(index),
                Some(_) => {}
            }
        }
        if Some(self.low[node]) == self.index[node] {
            let mut group = Vec::new();
            while let Some(member) = self.stack.pop() {
                self.on_stack[member] = false;
                group.push(member);
                if member == node {
                    break;
                }
            }
            self.groups.push(group);
        }
    }
}

fn display(module: &ModulePath) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

fn collect_rs(dir: &Path, files: &mut Vec<PathBuf>) -> Result {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect_rs(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// `src/store/mod.rs` → `store`, `src/store/outbox.rs` → `store::outbox`; a binary under
/// `src/bin/` is its own root and is left out of the library's graph by naming it `bin::…`.
fn module_of(src: &Path, file: &Path) -> ModulePath {
    let relative = file.strip_prefix(src).unwrap_or(file);
    let mut parts: ModulePath = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Code without `//` and `/* */` comments or string literals, so doc links and messages are not
/// read as imports.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = ' ';
                for c in chars.by_ref() {
                    if previous == '*' && c == '/' {
                        break;
                    }
                    previous = c;
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// Absolute module paths named by `crate::…` and `super::…` in `text`, braces expanded.
fn referenced_paths(module: &ModulePath, text: &str) -> Vec<ModulePath> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    for (start, _) in text
        .match_indices("crate::")
        .chain(text.match_indices("super::"))
    {
        let preceded_by_ident = start > 0 && is_ident(bytes[start - 1] as char);
        let preceded_by_path = start >= 2 && &text[start - 2..start] == "::";
        if preceded_by_ident || preceded_by_path {
            continue;
        }
        let mut base: ModulePath = if text[start..].starts_with("crate::") {
            Vec::new()
        } else {
            module.clone()
        };
        let mut rest = &text[start..];
        // `super::super::x` climbs once per `super`.
        while let Some(after) = rest.strip_prefix("super::") {
            base.pop();
            rest = after;
        }
        if let Some(after) = rest.strip_prefix("crate::") {
            rest = after;
        }
        expand(&base, rest, &mut found);
    }
    found
}

/// Reads one path tree (`a::b::{c, d::e}`) from the start of `rest` onto `base`.
fn expand(base: &ModulePath, rest: &str, found: &mut Vec<ModulePath>) {
    let mut path = base.clone();
    let mut rest = rest.trim_start();
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            for item in split_group(group) {
                expand(&path, item, found);
            }
            return;
        }
        let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if ident.is_empty() || ident == "self" {
            break;
        }
        path.push(ident.clone());
        rest = &rest[ident.len()..];
        match rest.strip_prefix("::") {
            Some(after) => rest = after.trim_start(),
            None => break,
        }
    }
    found.push(path);
}

/// The top-level comma-separated items of a `{…}` group (without its closing brace).
fn split_group(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The longest prefix of `path` that is a module file.
fn deepest_module(modules: &BTreeSet<ModulePath>, path: &ModulePath) -> ModulePath {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|prefix| modules.contains(prefix))
        .unwrap_or_default()
}

/// The edge as the two children of the modules' common ancestor, or none when one module
/// contains the other.
fn lift(from: &ModulePath, to: &ModulePath) -> Option<(ModulePath, ModulePath)> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    if common == from.len() || common == to.len() {
        return None;
    }
    Some((from[..=common].to_vec(), to[..=common].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(path: &str) -> ModulePath {
        path.split("::").map(String::from).collect()
    }

    #[test]
    fn braces_and_super_resolve_to_absolute_paths() {
        let text =
            "use crate::{store::{Store, outbox::Event}, hub};\nuse super::super::error::Error;";
        let paths = referenced_paths(&m("a::b::c"), text);
        assert_eq!(
            paths,
            vec![
                m("store::Store"),
                m("store::outbox::Event"),
                m("hub"),
                m("a::error::Error")
            ]
        );
    }

    #[test]
    fn comments_and_strings_are_not_imports() {
        let text = "// see crate::store\n/* crate::hub */ let s = \"crate::rules\";";
        assert!(referenced_paths(&m("x"), &strip_comments(text)).is_empty());
    }

    #[test]
    fn edges_lift_to_where_modules_part_and_containment_is_not_an_edge() {
        assert_eq!(
            lift(&m("store::agents"), &m("rules::counts")),
            Some((m("store"), m("rules")))
        );
        assert_eq!(
            lift(&m("store::conversations"), &m("store::outbox")),
            Some((m("store::conversations"), m("store::outbox")))
        );
        assert_eq!(lift(&m("store::outbox"), &m("store")), None);
    }

    #[test]
    fn a_cycle_through_a_third_module_is_found() {
        let mut graph = ModuleGraph {
            modules: [m("a"), m("b"), m("c"), m("d")].into_iter().collect(),
            uses: BTreeMap::new(),
            because: BTreeMap::new(),
        };
        graph.uses.insert(m("a"), [m("b")].into_iter().collect());
        graph.uses.insert(m("b"), [m("c")].into_iter().collect());
        graph
            .uses
            .insert(m("c"), [m("a"), m("d")].into_iter().collect());
        assert_eq!(graph.cycles(), vec![vec!["a", "b", "c"]]);
        graph.uses.remove(&m("c"));
        assert!(graph.cycles().is_empty());
    }
}
