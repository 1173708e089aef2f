//! `cargo run -p scope --example bench_scope -- --url embedded --seconds 10`: the same benchmark
//! the app exposes as `metadj-scope bench-scope`, runnable without building the app.

use clap::Parser;
use scope::bench::{BenchScopeArgs, run};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: BenchScopeArgs,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let json = cli.args.json;
    let report = run(cli.args)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}
