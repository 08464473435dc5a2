{
  "targets": [
    {
      "target_name": "native_cache_manager",
      "sources": [
        "src/common/status.cc",
        "src/store/memory_store.cc",
        "src/napi/memory_store_wrap.cc",
        "src/redis/reply_reader.cc",
        "src/redis/command_encoder.cc",
        "src/redis/connection_manager.cc",
        "src/napi/redis_client_wrap.cc",
        "src/napi/addon.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "src",
        "<!@(pkg-config --cflags-only-I hiredis | sed -e 's/-I//g')"
      ],
      "libraries": ["<!@(pkg-config --libs hiredis)"],
      "defines": [
        "NAPI_VERSION=9",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++20", "-fno-exceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "conditions": [
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
            "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }]
      ]
    }
  ]
}
