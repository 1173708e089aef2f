//! Stand-alone `bench` until the app's CLI carries the subcommand:
//! `cargo run --release --example bench -- --layers 1,4,8,16 --size 1920x1080 --frames 60`.

use clap::Parser;
use metadj_scope::bench::{BenchArgs, run};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    bench: BenchArgs,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let report = run(&cli.bench)?;
    if cli.bench.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}
