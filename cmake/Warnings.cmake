# Project-wide settings live in INTERFACE targets linked PRIVATE, never in global flags.
# -Wno-missing-field-initializers: every struct member has a default initializer, so an
# aggregate that names only some members is intended.
add_library(housekeep_settings INTERFACE)
target_compile_options(housekeep_settings INTERFACE
  -Wall -Wextra -Wno-missing-field-initializers -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${HOUSEKEEP_WERROR}>:-Werror>)
if(HOUSEKEEP_SANITIZE)
  target_compile_options(housekeep_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(housekeep_settings INTERFACE -fsanitize=address,undefined)
endif()
