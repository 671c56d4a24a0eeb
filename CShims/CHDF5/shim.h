/* HDF5 (Debian's serial build, libhdf5-dev 1.10.x). The header lives in
   /usr/include/hdf5/serial and the library is libhdf5_serial.so; the
   target's pkg-config name (hdf5) supplies the include folder. */
#include <hdf5.h>

/* HDF5's predefined type and property-list ids are macros that call
   H5open() and read a global; Swift cannot import them, so each one used
   by Beamline is a function here. */
static inline hid_t beamline_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t beamline_h5s_all(void) { return H5S_ALL; }
static inline hid_t beamline_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t beamline_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t beamline_h5p_link_create(void) { return H5P_LINK_CREATE; }

static inline hid_t beamline_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t beamline_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t beamline_h5t_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t beamline_h5t_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t beamline_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t beamline_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t beamline_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t beamline_h5t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t beamline_h5t_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t beamline_h5t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t beamline_h5t_c_s1(void) { return H5T_C_S1; }

/* Little-endian file types (what h5py writes on x86-64). */
static inline hid_t beamline_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t beamline_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t beamline_h5t_std_i8le(void) { return H5T_STD_I8LE; }
static inline hid_t beamline_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t beamline_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t beamline_h5t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t beamline_h5t_std_i16le(void) { return H5T_STD_I16LE; }
static inline hid_t beamline_h5t_std_u16le(void) { return H5T_STD_U16LE; }
static inline hid_t beamline_h5t_std_u32le(void) { return H5T_STD_U32LE; }
static inline hid_t beamline_h5t_std_u64le(void) { return H5T_STD_U64LE; }

/* File-access flags, also H5open()-calling macros. */
static inline unsigned beamline_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned beamline_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned beamline_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned beamline_h5f_acc_excl(void) { return H5F_ACC_EXCL; }

/* Turns off the automatic printing of HDF5's error stack on the default
   stack (H5Eset_auto2 with a NULL function). */
static inline herr_t beamline_h5_silence_errors(void) {
    return H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* The innermost message of the current error stack (the first entry that
   libhdf5 pushed), copied into `buffer`; returns its length, 0 if none. */
typedef struct {
    char *buffer;
    size_t capacity;
    int found;
} beamline_h5_error_sink;

static inline herr_t beamline_h5_error_walker(unsigned n, const H5E_error2_t *error, void *data) {
    beamline_h5_error_sink *sink = (beamline_h5_error_sink *)data;
    if (sink->found || error == NULL || error->desc == NULL) return 0;
    size_t i = 0;
    for (; error->desc[i] != 0 && i + 1 < sink->capacity; ++i) sink->buffer[i] = error->desc[i];
    sink->buffer[i] = 0;
    sink->found = 1;
    (void)n;
    return 0;
}

static inline size_t beamline_h5_error_message(char *buffer, size_t capacity) {
    if (capacity == 0) return 0;
    buffer[0] = 0;
    beamline_h5_error_sink sink = { buffer, capacity, 0 };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, beamline_h5_error_walker, &sink);
    size_t length = 0;
    while (length < capacity && buffer[length] != 0) ++length;
    return length;
}

/* Which link type (H5L_TYPE_HARD, _SOFT, _EXTERNAL) `name` is in `location`,
   or -1 if there is no such link. */
static inline int beamline_h5_link_type(hid_t location, const char *name) {
    H5L_info_t info;
    if (H5Lget_info(location, name, &info, H5P_DEFAULT) < 0) return -1;
    return (int)info.type;
}

/* The kind of object `name` refers to (H5O_TYPE_GROUP, _DATASET,
   _NAMED_DATATYPE) or -1. */
static inline int beamline_h5_object_type(hid_t location, const char *name) {
    H5O_info_t info;
    if (H5Oget_info_by_name2(location, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
    return (int)info.type;
}

/* Collects the link names of a group in creation-or-name order through a
   callback; Swift passes a context and a function pointer. */
typedef void (*beamline_h5_name_callback)(const char *name, void *context);

typedef struct {
    beamline_h5_name_callback callback;
    void *context;
} beamline_h5_name_visitor;

static inline herr_t beamline_h5_iterate_visit(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    beamline_h5_name_visitor *visitor = (beamline_h5_name_visitor *)data;
    visitor->callback(name, visitor->context);
    (void)group; (void)info;
    return 0;
}

static inline herr_t beamline_h5_list_links(hid_t group, beamline_h5_name_callback callback, void *context) {
    beamline_h5_name_visitor visitor = { callback, context };
    hsize_t index = 0;
    return H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, beamline_h5_iterate_visit, &visitor);
}

/* The target of the soft link `name`: its length (the buffer must hold it
   plus a NUL; pass NULL to ask for the length), -2 when the link is not a
   soft link, -1 when there is no such link. */
static inline long beamline_h5_soft_link_value(hid_t location, const char *name, char *buffer, size_t capacity) {
    H5L_info_t info;
    if (H5Lget_info(location, name, &info, H5P_DEFAULT) < 0) return -1;
    if (info.type != H5L_TYPE_SOFT) return -2;
    if (buffer == NULL || capacity < info.u.val_size) return (long)info.u.val_size;
    if (H5Lget_val(location, name, buffer, capacity, H5P_DEFAULT) < 0) return -1;
    return (long)info.u.val_size;
}

/* Frees the strings of a variable-length string read (H5Dvlen_reclaim). */
static inline herr_t beamline_h5_reclaim(hid_t type, hid_t space, void *buffer) {
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
}
