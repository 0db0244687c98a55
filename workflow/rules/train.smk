rule train:
    input:
        unpack(train_data),
    output:
        "results/runs/{dataset}/{task}/{entry}/seed{seed}.json",
    log:
        "logs/train/{dataset}/{task}/{entry}/seed{seed}.log",
    params:
        spec=lambda wildcards: json.dumps(run_spec(wildcards), sort_keys=True),
        data=data_arguments,
    threads: config["threads"]
    resources:
        mem_mb=entry_resources("mem_mb", TRAIN_MEM_MB),
        runtime=entry_resources("runtime", TRAIN_RUNTIME),
    conda:
        "../../environment.yml"
    shell:
        "OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} MKL_NUM_THREADS={threads} NUMBA_NUM_THREADS={threads}"
        " python scripts/train.py --spec {params.spec:q} {params.data} --out {output} 2> {log}"
