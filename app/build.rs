//! Tells the code whether this is the split WASM build (`cargo leptos build --split` or
//! `watch --split`): cargo-leptos then links the bundle with `--emit-relocs`, which
//! `wasm-split` needs. Only that build may use `#[lazy]` (its placeholder imports are
//! resolved by the split alone); every other build (plain `cargo leptos build`, `watch`,
//! the server, the tests) renders the same lazy routes from code in the one bundle.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(ote_split)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    if wasm && flags.split('\x1f').any(|flag| flag.contains("--emit-relocs")) {
        println!("cargo::rustc-cfg=ote_split");
    }
}
