{
  # hiredis: found with pkg-config on Linux and macOS (libhiredis-dev, Homebrew's hiredis), from
  # vcpkg on Windows (VCPKG_ROOT, static triplet). The prebuilt binaries are configured with
  # GYP_DEFINES="ncm_static_deps=true": hiredis, libstdc++ and libgcc linked in, their symbols
  # kept local, so the addon needs only the C library and the Node process (docs/install.md).
  "variables": {
    "ncm_static_deps%": "false",
    "vcpkg_root%": "<!(node -p \"process.env.VCPKG_ROOT || ''\")",
    "vcpkg_triplet%": "x64-windows-static"
  },
  "targets": [
    {
      "target_name": "native_cache_manager",
      "sources": [
        "src/common/status.cc",
        "src/store/memory_store.cc",
        "src/napi/memory_store_wrap.cc",
        "src/redis/reply_reader.cc",
        "src/redis/command_encoder.cc",
        "src/redis/address_source.cc",
        "src/redis/backoff.cc",
        "src/redis/connection_manager.cc",
        "src/redis/deadline_index.cc",
        "src/redis/dialer.cc",
        "src/redis/endpoint.cc",
        "src/redis/handshake.cc",
        "src/redis/io_thread.cc",
        "src/redis/node_connection.cc",
        "src/redis/outbox.cc",
        "src/redis/tcp_transport.cc",
        "src/redis/timer.cc",
        "src/redis/tls_context.cc",
        "src/redis/tls_transport.cc",
        "src/napi/packed_batch.cc",
        "src/napi/redis_config.cc",
        "src/napi/redis_events.cc",
        "src/napi/redis_client_wrap.cc",
        "src/napi/json_quote.cc",
        "src/napi/addon.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "src"
      ],
      "defines": [
        "NAPI_VERSION=9",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++20", "-fno-exceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "conditions": [
        ["OS!='win'", {
          "include_dirs": ["<!@(pkg-config --cflags-only-I hiredis | sed -e 's/-I//g')"]
        }],
        ["OS!='win' and ncm_static_deps!='true'", {
          "libraries": ["<!@(pkg-config --libs hiredis)"]
        }],
        ["OS=='linux' and ncm_static_deps=='true'", {
          "libraries": ["<!@(pkg-config --libs-only-L hiredis)", "-l:libhiredis.a"],
          "ldflags": ["-static-libstdc++", "-static-libgcc", "-Wl,--exclude-libs,ALL"]
        }],
        ["OS=='mac' and ncm_static_deps=='true'", {
          "libraries": ["<!(pkg-config --variable=libdir hiredis)/libhiredis.a"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
            "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
            "MACOSX_DEPLOYMENT_TARGET": "11.0",
            "GCC_SYMBOLS_PRIVATE_EXTERN": "YES"
          }
        }],
        ["OS=='win'", {
          "include_dirs": ["<(vcpkg_root)/installed/<(vcpkg_triplet)/include"],
          "libraries": ["<(vcpkg_root)/installed/<(vcpkg_triplet)/lib/hiredis.lib", "ws2_32.lib"],
          "msvs_settings": {
            "VCCLCompilerTool": {
              "AdditionalOptions": ["/std:c++20"],
              "ExceptionHandling": 0
            }
          }
        }]
      ]
    }
  ]
}
