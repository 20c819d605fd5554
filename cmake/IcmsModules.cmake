# Each folder under src/ is one module: an OBJECT library named icms_mod_<name>.
# A module names the modules it uses and the external libraries it needs;
# icms_link_modules() gives a target the objects of a module and of everything
# it depends on, so a test builds only what it tests and a half-written module
# elsewhere does not stop it.

define_property(TARGET PROPERTY ICMS_MODULE_DEPS
  BRIEF_DOCS "modules this module uses" FULL_DOCS "modules this module uses")
define_property(TARGET PROPERTY ICMS_MODULE_LIBS
  BRIEF_DOCS "external libraries" FULL_DOCS "external libraries this module links")

# icms_module(NAME SOURCES src... [DEPENDS mod...] [LIBS lib...])
function(icms_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPENDS;LIBS" ${ARGN})
  set(target icms_mod_${name})
  add_library(${target} OBJECT ${M_SOURCES})
  target_link_libraries(${target} PRIVATE icms_build_flags ${M_LIBS})
  set_target_properties(${target} PROPERTIES
    ICMS_MODULE_DEPS "${M_DEPENDS}"
    ICMS_MODULE_LIBS "${M_LIBS}"
    POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden)
  set_property(GLOBAL APPEND PROPERTY ICMS_ALL_MODULES ${name})
endfunction()

# The transitive closure of modules, dependencies first.
function(icms_module_closure out)
  set(result "")
  set(todo ${ARGN})
  while(todo)
    list(POP_FRONT todo mod)
    if(NOT mod IN_LIST result)
      list(APPEND result ${mod})
      get_target_property(deps icms_mod_${mod} ICMS_MODULE_DEPS)
      if(deps)
        list(APPEND todo ${deps})
      endif()
    endif()
  endwhile()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

# icms_link_modules(target mod...): the modules' objects and their libraries.
function(icms_link_modules target)
  icms_module_closure(mods ${ARGN})
  foreach(mod IN LISTS mods)
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:icms_mod_${mod}>)
    get_target_property(libs icms_mod_${mod} ICMS_MODULE_LIBS)
    if(libs)
      target_link_libraries(${target} PRIVATE ${libs})
    endif()
  endforeach()
endfunction()
