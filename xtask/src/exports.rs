//! The panel's module without the exports nothing calls.
//!
//! Leptos always brings `server_fn`'s browser streams (`wasm-streams`), which export three
//! classes (`IntoUnderlyingSource`, `…Sink`, `…ByteSource`) to JavaScript. An export is a root
//! no optimiser may remove, so their code, and wasm-bindgen's JavaScript for them, shipped in
//! every panel though the panel never streams: about 1.7 KB brotli. After Trunk's build this
//! removes every exported class from the JavaScript glue (the panel exports one function,
//! `mount`, and no class), then every WebAssembly export the remaining glue does not name
//! (`wasm-metadce`, binaryen's dead-export elimination, with those names as the roots), and
//! optimises the module again.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::run::{run, Result};
use crate::tools;

/// The WebAssembly features the Rust target emits (and Chromium runs); binaryen must be told.
const FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-mutable-globals",
];

/// Strips `glue` (wasm-bindgen's JavaScript) and `module` (its WebAssembly) of what only
/// exported classes use.
pub fn strip_unused(glue: &Path, module: &Path) -> Result {
    let source = std::fs::read_to_string(glue).map_err(|e| format!("{}: {e}", glue.display()))?;
    let (kept, classes) = without_classes(&source);
    if let Some(class) = classes.iter().find(|class| kept.contains(class.as_str())) {
        return Err(format!(
            "{}: the panel's glue still uses the class {class}",
            glue.display()
        ));
    }
    std::fs::write(glue, &kept).map_err(|e| format!("{}: {e}", glue.display()))?;
    // Names are identifiers (letters, digits, `_`, `$`): nothing to escape in the JSON.
    let roots: Vec<String> = used_exports(&kept)
        .into_iter()
        .map(|name| format!(r#"{{"name":"export:{name}","root":true,"export":"{name}"}}"#))
        .collect();
    let graph = module.with_extension("graph.json");
    std::fs::write(&graph, format!("[{}]", roots.join(",")))
        .map_err(|e| format!("{}: {e}", graph.display()))?;
    let binaryen = tools::wasm_opt();
    let bin = binaryen.parent().ok_or("binaryen's folder")?;
    run(Command::new(bin.join("wasm-metadce"))
        .args(FEATURES)
        .arg("--graph-file")
        .arg(&graph)
        .arg(module)
        .arg("-o")
        .arg(module))?;
    std::fs::remove_file(&graph).map_err(|e| format!("{}: {e}", graph.display()))?;
    run(Command::new(binaryen)
        .args(FEATURES)
        .args(["-Oz", "--converge"])
        .arg(module)
        .arg("-o")
        .arg(module))
}

/// The glue without its `export class` blocks (each with its `Symbol.dispose` line and its
/// finalization registry), and the names of the classes removed. Line-wise, on the pinned
/// wasm-bindgen's output: a class ends at the first line that is a lone `}`.
fn without_classes(glue: &str) -> (String, Vec<String>) {
    let classes: Vec<String> = glue
        .lines()
        .filter_map(|line| line.strip_prefix("export class "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let mut kept = String::with_capacity(glue.len());
    let mut skipping: Option<&str> = None;
    for line in glue.lines() {
        if let Some(end) = skipping {
            if line == end || (end == ";" && line.trim_end().ends_with(';')) {
                skipping = None;
            }
            continue;
        }
        let of_a_class = |prefix: &str| {
            classes
                .iter()
                .any(|class| line.starts_with(&prefix.replace("{}", class)))
        };
        if of_a_class("export class {} ") {
            skipping = Some("}");
        } else if of_a_class("const {}Finalization = ") {
            if !line.trim_end().ends_with(';') {
                skipping = Some(";");
            }
        } else if !of_a_class("if (Symbol.dispose) {}.prototype") {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    (kept, classes)
}

/// Every `wasm.<export>` the glue names.
fn used_exports(glue: &str) -> BTreeSet<String> {
    glue.match_indices("wasm.")
        .map(|(at, _)| {
            glue[at + 5..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = "import { Tray } from './files.js';\n\
        export class Source {\n    free() {\n        SourceFinalization.unregister(this);\n        wasm.__wbg_source_free(1, 0);\n    }\n}\n\
        if (Symbol.dispose) Source.prototype[Symbol.dispose] = Source.prototype.free;\n\
        export function mount(root, options) {\n    wasm.mount(root, options);\n}\n\
        const SourceFinalization = (typeof FinalizationRegistry === 'undefined')\n    ? { register: () => {} }\n    : new FinalizationRegistry(ptr => wasm.__wbg_source_free(ptr, 1));\n\
        const CLOSURE_DTORS = new FinalizationRegistry(s => wasm.__wbindgen_destroy_closure(s.a));\n\
        let cached = wasm.memory.buffer;\n";

    #[test]
    fn exported_classes_go_and_what_else_the_glue_calls_stays() {
        let (kept, classes) = without_classes(GLUE);
        assert_eq!(classes, vec!["Source".to_owned()]);
        assert!(!kept.contains("Source"), "{kept}");
        assert!(kept.contains(
            "export function mount(root, options) {\n    wasm.mount(root, options);\n}\n"
        ));
        assert!(kept.contains("CLOSURE_DTORS") && kept.contains("import { Tray }"));
        let used: Vec<String> = used_exports(&kept).into_iter().collect();
        assert_eq!(used, ["__wbindgen_destroy_closure", "memory", "mount"]);
    }
}
