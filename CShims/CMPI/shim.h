/* Open MPI (Debian's libopenmpi-dev, 4.1.x). The header lives in
   /usr/lib/x86_64-linux-gnu/openmpi/include and the library is libmpi.so;
   the target's pkg-config name (ompi-c) supplies both folders.

   Only BeamlineMPI imports this module: the core Beamline products never
   link MPI. */
#include <mpi.h>

/* Open MPI's predefined handles (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, ...)
   are macros that take the address of a global object; Swift cannot import
   them, so each one Beamline uses is a function here. */
static inline MPI_Comm beamline_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm beamline_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype beamline_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype beamline_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype beamline_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype beamline_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op beamline_mpi_op_sum(void) { return MPI_SUM; }
static inline MPI_Op beamline_mpi_op_max(void) { return MPI_MAX; }
static inline MPI_Errhandler beamline_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *beamline_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int beamline_mpi_success(void) { return MPI_SUCCESS; }
static inline int beamline_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
