//! `cargo xtask size` (also run by `bench` and `test`): what a visitor's browser downloads, each
//! against its budget, and what the panel's WASM is made of, so every change's cost is visible.
//! The budgets are bytes and fail the run; times never do.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use crate::dist::{brotli_bytes, gzip_bytes};
use crate::run::{run, Result};
use crate::{dist, paths, tools};

/// The panel after the click (WASM, with its stylesheet; its JS glue and snippets), brotli:
/// 78,696 B before it spoke six languages, and at most 4 KB more for that (issue 17; the
/// languages' texts come from the gateway, one at a time).
pub const PANEL_BUDGET: usize = 78_696 + 4_096;
/// The loader every host page fetches before any click (with the launcher's stylesheet in it),
/// as transferred: brotli, which every browser takes over HTTPS (gzip, for plain HTTP, is
/// reported beside it, and so is its source's).
pub const LOADER_BUDGET: usize = 2_048;
/// Each language's texts, fetched by the panel when it opens (only the page's language), brotli.
pub const TEXTS_BUDGET: usize = 2_048;

pub fn main(_args: &[String]) -> Result {
    let path = tools::ensure_wasm_tools()?;
    tools::ensure_twiggy(&path)?;
    dist::build_all(&path)?;
    let sizes = report();
    attribution(&path)?;
    check(&sizes)
}

/// Compressed sizes of what the browser downloads: brotli, and the loader's gzip (what a
/// browser that does not take brotli, such as any on plain HTTP, is sent).
pub struct Sizes {
    pub loader: usize,
    pub loader_gzip: usize,
    pub panel: usize,
    /// Each language's bundle, by file name.
    pub texts: Vec<(String, usize)>,
}

/// Prints the loader's and the panel's sizes (raw, brotli, gzip) with their budgets.
pub fn report() -> Sizes {
    let widget = paths::dist_dir().join("widget");
    // The loader as served: the build's, which names the panel's hashed files.
    let loader = widget.join("embed.js");
    let panel_files = panel_files(&widget);
    eprintln!("\nwidget sizes (bytes)                     raw     brotli       gzip     budget");
    let loader_sizes = sizes_of(&loader);
    print_row(
        "embed.js (loader, before any click)",
        loader_sizes,
        Some(LOADER_BUDGET),
    );
    print_row(
        "  its source, widget/loader/embed.js",
        sizes_of(&paths::root().join("widget/loader/embed.js")),
        None,
    );
    let mut panel = (0, 0, 0);
    for file in &panel_files {
        let sizes = sizes_of(file);
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        print_row(&name, sizes, None);
        panel = (panel.0 + sizes.0, panel.1 + sizes.1, panel.2 + sizes.2);
    }
    print_row("panel total (after the click)", panel, Some(PANEL_BUDGET));
    print_row(
        "cobrowse.js (co-browsing, on Accept)",
        sizes_of(&widget.join(dist::COBROWSE_MODULE)),
        None,
    );
    let mut texts = Vec::new();
    let mut bundles: Vec<_> = std::fs::read_dir(paths::root().join("widget/locales"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .collect();
    bundles.sort();
    for bundle in bundles {
        let name = bundle.file_name().unwrap_or_default().to_string_lossy();
        let sizes = sizes_of(&bundle);
        print_row(&format!("texts {name}"), sizes, Some(TEXTS_BUDGET));
        texts.push((name.into_owned(), sizes.1));
    }
    eprintln!();
    Sizes {
        loader: loader_sizes.1,
        loader_gzip: loader_sizes.2,
        panel: panel.1,
        texts,
    }
}

/// The panel's files as a visitor's browser fetches them: the WASM, its JS glue, the CSS, and
/// the snippets the glue imports (not the precompressed copies). wasm-bindgen writes out every
/// snippet of every crate the panel links, also those whose functions the panel never calls (the
/// console's, in the crates they share); the glue does not import those, so no browser loads them.
fn panel_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut glue = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if matches!(ext, "wasm" | "js" | "css")
            && !path.ends_with("embed.js")
            && !path.ends_with(dist::COBROWSE_MODULE)
        {
            if ext == "js" {
                glue = std::fs::read_to_string(&path).unwrap_or_default();
            }
            files.push(path);
        }
    }
    files.extend(dist::imported_snippets(&glue).map(|snippet| dir.join(snippet)));
    files.sort();
    files
}

fn sizes_of(path: &Path) -> (usize, usize, usize) {
    match std::fs::read(path) {
        Ok(raw) => (raw.len(), brotli_bytes(&raw).len(), gzip_bytes(&raw).len()),
        Err(_) => (0, 0, 0),
    }
}

fn print_row(name: &str, (raw, brotli, gzip): (usize, usize, usize), budget: Option<usize>) {
    let budget = budget.map_or(String::new(), |b| {
        format!("{b:>10} ({:.0} %)", brotli as f64 * 100.0 / b as f64)
    });
    eprintln!("{name:<38} {raw:>8} {brotli:>10} {gzip:>10} {budget}");
}

/// Fails when a budget is exceeded.
pub fn check(sizes: &Sizes) -> Result {
    let mut over = Vec::new();
    if sizes.panel > PANEL_BUDGET {
        over.push(format!(
            "the panel is {} B brotli (budget {PANEL_BUDGET})",
            sizes.panel
        ));
    }
    if sizes.loader > LOADER_BUDGET {
        over.push(format!(
            "the loader is {} B brotli, {} B gzip (budget {LOADER_BUDGET} as transferred)",
            sizes.loader, sizes.loader_gzip
        ));
    }
    for (name, brotli) in &sizes.texts {
        if *brotli > TEXTS_BUDGET {
            over.push(format!(
                "the texts {name} are {brotli} B brotli (budget {TEXTS_BUDGET})"
            ));
        }
    }
    if over.is_empty() {
        Ok(())
    } else {
        Err(over.join("; "))
    }
}

/// The top 25 of the panel's WASM by retained size. Trunk's output has no names, so the same
/// module is run through wasm-bindgen and `wasm-opt -Oz` again keeping them (`-g`).
fn attribution(path: &OsString) -> Result {
    let built = paths::wasm_target_dir().join("wasm32-unknown-unknown/release/widget.wasm");
    let out = paths::target_dir().join("size");
    let _ = std::fs::remove_dir_all(&out);
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--out-dir"])
        .arg(&out)
        .arg(&built)
        .env("PATH", path))?;
    let named = out.join("widget_named.wasm");
    run(Command::new(tools::wasm_opt())
        .args(["-Oz", "-g"])
        .arg(out.join("widget_bg.wasm"))
        .arg("-o")
        .arg(&named)
        .env("PATH", path))?;
    let csv = crate::run::output(
        Command::new("twiggy")
            .args(["top", "--retained", "-f", "csv"])
            .arg(&named)
            .env("PATH", path),
    )
    .ok_or("twiggy failed")?;
    eprintln!("the panel's WASM, top 25 by retained size (names kept; not the shipped bytes)");
    eprintln!("{:>9} {:>7}  item", "retained", "%");
    // Tables, the name section and the export shims retain everything: they say nothing.
    let rows = csv.lines().skip(1).filter_map(|line| {
        let (name, rest) = split_csv_name(line)?;
        let fields: Vec<&str> = rest.split(',').collect();
        let retained: usize = fields.get(2)?.parse().ok()?;
        let percent: f64 = fields.get(3)?.parse().ok()?;
        let noise = name.starts_with("table[")
            || name.starts_with("elem[")
            || name.contains("function names")
            || name.starts_with("export ")
            || name.contains("externref shim");
        (!noise).then_some((name, retained, percent))
    });
    for (name, retained, percent) in rows.take(25) {
        let name: String = name.chars().take(110).collect();
        eprintln!("{retained:>9} {percent:>6.2}%  {name}");
    }
    eprintln!();
    Ok(())
}

/// Splits a twiggy CSV row into its (possibly quoted) name and the numeric fields after it.
fn split_csv_name(line: &str) -> Option<(String, &str)> {
    if let Some(quoted) = line.strip_prefix('"') {
        let end = quoted.find("\",")?;
        Some((quoted[..end].replace("\"\"", "\""), &quoted[end + 2..]))
    } else {
        let (name, rest) = line.split_once(',')?;
        Some((name.to_owned(), rest))
    }
}
