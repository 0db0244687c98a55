# Training jobs are timed. They run side by side only when each can have cores of its own: each
# takes one `timed_slot`, whose capacity is one per `threads` of the cores Snakemake is given (at
# most this machine's), capped by the config's `timed_jobs_at_once` if set; and each job claims
# the cores it was granted and pins itself to them (edbench.threads.claim_cores), so no two timed
# jobs share a core. `--resources timed_slot=N` on the command line (or in a profile) overrides it.
from edbench.threads import timed_jobs_at_once

if "timed_slot" not in workflow.global_resources:
    workflow.register_resource(
        "timed_slot",
        timed_jobs_at_once(
            workflow.resource_settings.cores, config["threads"], config.get("timed_jobs_at_once"), len(RUNS)
        ),
    )

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
        + " python scripts/train.py --threads-granted {threads} --spec {params.spec:q} {params.data} --out {output}"
        " 2> {log}"


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
            thread_variables("{threads}")
            + " python scripts/train.py --threads-granted {threads} {params.runs} {params.data} 2> {log[0]}"


# What the main Snakemake process cost (its own CPU against its wall time, the scheduler it used),
# kept with the tables for the reference: on 2 cores its CPU is taken from the timed jobs.
onsuccess:
    if workflow.is_main_process:
        provenance.add_workflow_usage(
            "results/tables/snakemake_usage.json",
            provenance.workflow_usage(
                workflow.scheduling_settings.scheduler,
                workflow.resource_settings.cores,
                workflow.scheduler.finished_jobs,
                workflow.scheduling_settings.max_jobs_per_timespan,
                scheduling.is_kept_to_one(),
            ),
        )
