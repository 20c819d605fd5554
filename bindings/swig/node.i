/*
 * Node-only parts of the interface. The Node binding calls the library
 * synchronously on the JavaScript thread; host callbacks written in
 * JavaScript are not offered (the node is reached through the built-in
 * libcurl transport), since a synchronous callback into V8 from inside a
 * command would block the event loop anyway.
 */

/* Strings in: null and undefined are C's NULL (SWIG's own typemap refuses them). */
%typemap(in, fragment="SWIG_AsCharPtrAndSize") const char * (char *buf = 0, int alloc = 0) {
    if ($input->IsNullOrUndefined()) {
        $1 = NULL;
    } else {
        int res = SWIG_AsCharPtrAndSize($input, &buf, NULL, &alloc);
        if (!SWIG_IsOK(res))
            SWIG_exception_fail(SWIG_ArgError(res), "in method '$symname', argument $argnum of type '$type'");
        $1 = buf;
    }
}
%typemap(freearg) const char * "if (alloc$argnum == SWIG_NEWOBJ) delete[] buf$argnum;"
