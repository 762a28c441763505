# Sourced by the scripts: what OpenMPI needs on these machines. Running as root is refused unless
# allowed; more ranks than cores needs oversubscription, and then idle ranks must yield the core.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
