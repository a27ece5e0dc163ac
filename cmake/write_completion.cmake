# cmake -DTANDEM=<tandem binary> -DOUTPUT=<file> -P write_completion.cmake
# The installed bash completion is what `tandem completion bash` prints: one copy.
get_filename_component(folder "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${folder}")
execute_process(COMMAND "${TANDEM}" completion bash OUTPUT_FILE "${OUTPUT}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(REMOVE "${OUTPUT}")
  message(FATAL_ERROR "tandem completion bash exited ${result}")
endif()
