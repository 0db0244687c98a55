# Training jobs are timed, so at most `timed_jobs_at_once` (config, default 1) run at a time,
# whatever --cores says: a job's time is then its own, not shared with another job on the same
# core. `--resources timed_slot=N` on the command line (or in a profile) overrides it.
if "timed_slot" not in workflow.global_resources:
    workflow.register_resource("timed_slot", config.get("timed_jobs_at_once", 1))

# A job reruns when the code it runs changes (Snakemake's params rerun trigger sees the digest).
TRAIN_CODE = provenance.training_code_digest("scripts/train.py")


rule train:
    input:
        unpack(train_data),
    output:
        "results/runs/{dataset}/{task}/{entry}/seed{seed}.json",
    log:
        "logs/train/{dataset}/{task}/{entry}/seed{seed}.log",
    wildcard_constraints:
        task=UNBATCHED_TASK,
    conda:
        "../../environment.yml"
    threads: lambda wildcards: run_spec(wildcards).threads
    resources:
        mem_mb=entry_resources("mem_mb"),
        runtime=entry_resources("runtime"),
        timed_slot=1,
    params:
        spec=lambda wildcards: run_spec(wildcards).to_json(),
        data=lambda wildcards: data_arguments(data_files(run_spec(wildcards))),
        code=TRAIN_CODE,
    shell:
        thread_variables("{threads}")
        + " python scripts/train.py --spec {params.spec:q} {params.data} --out {output} 2> {log}"


for batch_name, batch_paths in BATCHES.items():
    batch_data = batch_inputs(batch_paths)

    rule:
        name:
            f"train_batch_{batch_name}"
        input:
            **batch_data,
        output:
            batch_paths,
        log:
            [f"logs/train/batches/{batch_name}.log"] + [run_log(path) for path in batch_paths],
        conda:
            "../../environment.yml"
        threads: max(RUNS[path].threads for path in batch_paths)
        resources:
            **batch_resources(batch_paths),
            timed_slot=1,
        params:
            runs=batch_arguments(batch_paths),
            data=data_arguments(data_files(RUNS[batch_paths[0]])),
            code=TRAIN_CODE,
        shell:
            thread_variables("{threads}") + " python scripts/train.py {params.runs} {params.data} 2> {log[0]}"
