// Spool kernel ABI (GLSL). A kernel file defines:
//   struct SpoolArgs { ... };          // its arguments: buffer references and 32-bit scalars
//   void spool_body(SpoolArgs args, uint i, uint item);
// spool_body is called once per invocation index i in [0, grid) of a work item;
// `item` is the item's index within its batch. Bodies must not use barrier()
// or shared memory: the same body runs one item per launch and inside the
// persistent queue loop, where a workgroup strides over the item's grid.
// Buffer arguments are device addresses (VK_KHR_buffer_device_address):
// declare them with SPOOL_BUFFER(Name, elem_type) and index `.v[i]`.
#ifndef SPOOL_ABI_GLSL
#define SPOOL_ABI_GLSL
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

#define SPOOL_BUFFER(Name, T) \
  layout(buffer_reference, std430, buffer_reference_align = 4) buffer Name { T v[]; }
#endif  // SPOOL_ABI_GLSL
