// BONAFIDE_EXPORT marks what libbonafide.so exports: every class and free function of the
// public API (include/bonafide/) that is defined out of line, or has a vtable or typeinfo a
// program may use (a CaseSink subclass, a dynamic_cast). Everything else in the library is
// built with -fvisibility=hidden and stays private to it.
//
// The same mark serves the static library: there it only sets the symbol's ELF
// visibility, which is what a program that links libbonafide.a into a shared library of
// its own wants for the API. One build of the objects gives both libraries.
#ifndef BONAFIDE_EXPORT_H_
#define BONAFIDE_EXPORT_H_

#if defined(__GNUC__) || defined(__clang__)
#define BONAFIDE_EXPORT __attribute__((visibility("default")))
#else
#define BONAFIDE_EXPORT
#endif

#endif  // BONAFIDE_EXPORT_H_
