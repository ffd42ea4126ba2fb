// tests/models/safetensors_test.cpp — the safetensors reader and writer: files written by the Python
// library, round trips of every dtype, shards, alignment, atomicity and the malformed-file corpus.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "common/files.h"
#include "models/safetensors.h"
#include "tests/test_util.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using test::expect_error;
using test::fixture;
using test::TempDir;

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text_file(path)); }

TEST(Safetensors, ReadsEveryDtypeWrittenByPython) {
  auto file = SafetensorsFile::open(fixture("safetensors/dtypes.safetensors"));
  const auto expected = read_json(fixture("safetensors/dtypes.json"));
  EXPECT_EQ(file->metadata().at("note"), "written by Python");
  EXPECT_EQ(file->tensors().size(), expected["tensors"].size());
  for (const auto& [name, exp] : expected["tensors"].items()) {
    auto t = file->tensor(name);
    EXPECT_EQ(t.sizes().vec(), exp["shape"].get<std::vector<int64_t>>()) << name;
    auto want = torch::tensor(exp["values"].get<std::vector<double>>(), torch::kFloat64);
    auto got = t.to(torch::kFloat64).flatten();
    ASSERT_EQ(got.numel(), want.numel()) << name;
    EXPECT_TRUE(torch::equal(got, want)) << name << ": " << got << " vs " << want;
  }
}

TEST(Safetensors, RoundTripKeepsDtypesOrderBytesAndMetadata) {
  TempDir dir;
  NamedTensors tensors = {
      {"f32", torch::randn({3, 5})},
      {"bf16", torch::randn({7}).to(torch::kBFloat16)},
      {"f16", torch::randn({2, 2}).to(torch::kFloat16)},
      {"f64", torch::randn({1})},
      {"i64", torch::arange(5)},
      {"u8", torch::tensor({1, 2, 250}, torch::kUInt8)},
      {"bool", torch::tensor({true, false})},
      {"noncontiguous", torch::randn({4, 6}).t()},
      {"scalar", torch::tensor(3.5)},
      {"empty", torch::zeros({0, 4})},
  };
  tensors[3].second = tensors[3].second.to(torch::kFloat64);
  save_safetensors(dir / "a.safetensors", tensors, {{"format", "pt"}, {"step", "12"}});
  auto file = SafetensorsFile::open(dir / "a.safetensors");
  EXPECT_EQ(file->metadata().at("step"), "12");
  for (const auto& [name, t] : tensors) {
    auto got = file->tensor(name);
    EXPECT_EQ(got.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(got, t)) << name;
  }
  EXPECT_FALSE(fs::exists(dir / "a.safetensors.tmp"));
}

TEST(Safetensors, DataSectionIsAligned) {
  TempDir dir;
  save_safetensors(dir / "a.safetensors", {{"x", torch::ones({3})}});
  auto file = SafetensorsFile::open(dir / "a.safetensors");
  EXPECT_EQ((fs::file_size(dir / "a.safetensors") - 12) % 8, 0u);  // 8 + header padded to 8, then 12 data bytes
  EXPECT_EQ(reinterpret_cast<uintptr_t>(file->tensor("x").data_ptr()) % 8, 0u);
}

TEST(Safetensors, MisalignedDataIsCopiedCorrectly) {
  TempDir dir;
  // Header of odd length (no padding), so the float data starts at an odd address in the map.
  const std::string json = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_NE(json.size() % 4, 0u);
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
  const float values[2] = {1.5f, -2.25f};
  bytes += json + std::string(reinterpret_cast<const char*>(values), sizeof values);
  std::ofstream(dir / "odd.safetensors", std::ios::binary) << bytes;
  auto t = SafetensorsFile::open(dir / "odd.safetensors")->tensor("x");
  EXPECT_FLOAT_EQ(t[0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(t[1].item<float>(), -2.25f);
}

TEST(Safetensors, WritingAMappedTensorNeverChangesTheFile) {
  TempDir dir;
  save_safetensors(dir / "a.safetensors", {{"x", torch::zeros({4})}});
  {
    auto file = SafetensorsFile::open(dir / "a.safetensors");
    file->tensor("x").fill_(7.0f);
  }
  EXPECT_EQ(SafetensorsFile::open(dir / "a.safetensors")->tensor("x").sum().item<float>(), 0.0f);
}

TEST(Safetensors, TensorOutlivesItsFileObject) {
  TempDir dir;
  save_safetensors(dir / "a.safetensors", {{"x", torch::full({1000}, 2.0f)}});
  torch::Tensor t = SafetensorsFile::open(dir / "a.safetensors")->tensor("x");
  EXPECT_EQ(t.sum().item<float>(), 2000.0f);  // the mapping is kept alive by the tensor
}

TEST(Safetensors, FailedAtomicWriteKeepsThePreviousFile) {
  TempDir dir;
  const auto path = dir / "keep.txt";
  write_text_file_atomic(path, "old");
  EXPECT_THROW(write_file_atomic(path, [](std::FILE*) { throw std::runtime_error("disk full"); }), std::runtime_error);
  EXPECT_EQ(read_text_file(path), "old");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(Safetensors, ShardedFolderRoundTrip) {
  TempDir dir;
  NamedTensors tensors;
  for (int i = 0; i < 6; ++i) tensors.push_back({"layer." + std::to_string(i), torch::randn({64, 16})});  // 4 KiB each
  const auto files = save_tensor_folder(dir.str(), tensors, {{"format", "pt"}}, /*max_shard_bytes=*/10000);
  EXPECT_EQ(files.size(), 4u);  // 3 shards of two tensors + the index
  EXPECT_TRUE(fs::exists(dir / "model-00003-of-00003.safetensors"));
  const auto index = read_json(dir / "model.safetensors.index.json");
  EXPECT_EQ(index["metadata"]["total_size"].get<int64_t>(), 6 * 64 * 16 * 4);
  auto store = TensorStore::open_folder(dir.str());
  ASSERT_EQ(store.entries().size(), tensors.size());
  for (const auto& [name, t] : tensors) EXPECT_TRUE(torch::equal(store.tensor(name), t)) << name;
}

TEST(Safetensors, ShardIndexMustAgreeWithShards) {
  TempDir dir;
  NamedTensors tensors = {{"a", torch::ones({300})}, {"b", torch::ones({300})}};
  save_tensor_folder(dir.str(), tensors, {}, /*max_shard_bytes=*/1500);
  const auto index_path = dir / "model.safetensors.index.json";
  const auto index = read_json(index_path);

  auto with_index = [&](const nlohmann::json& j) { write_text_file_atomic(index_path, j.dump()); };
  auto listed_not_present = index;
  listed_not_present["weight_map"]["c"] = "model-00001-of-00002.safetensors";
  with_index(listed_not_present);
  expect_error([&] { TensorStore::open_folder(dir.str()); }, ExitCode::bad_input, "tensor 'c' listed in the index is missing");

  with_index(index);
  const auto shard1 = dir / "model-00001-of-00002.safetensors";
  save_safetensors(shard1, {{"a", torch::ones({300})}, {"extra", torch::ones({1})}});
  expect_error([&] { TensorStore::open_folder(dir.str()); }, ExitCode::bad_input, "'extra' is not listed in the index");
  save_safetensors(shard1, {{"a", torch::ones({300})}});

  auto missing_shard = index;
  missing_shard["weight_map"]["b"] = "model-00009-of-00009.safetensors";
  with_index(missing_shard);
  expect_error([&] { TensorStore::open_folder(dir.str()); }, ExitCode::bad_input, "does not exist");

  auto escaping = index;
  escaping["weight_map"]["b"] = "../elsewhere.safetensors";
  with_index(escaping);
  expect_error([&] { TensorStore::open_folder(dir.str()); }, ExitCode::bad_input, "must be a file in the same folder");

  write_text_file_atomic(index_path, "{ not json");
  expect_error([&] { TensorStore::open_folder(dir.str()); }, ExitCode::bad_input, "not valid JSON");
}

TEST(Safetensors, DuplicateTensorAcrossShardsIsRejected) {
  TempDir dir;
  save_safetensors(dir / "s1.safetensors", {{"w", torch::ones({2})}});
  save_safetensors(dir / "s2.safetensors", {{"w", torch::ones({2})}});
  write_text_file_atomic(dir / "model.safetensors.index.json",
                         R"({"weight_map": {"w": "s1.safetensors", "x": "s2.safetensors"}})");
  expect_error([&] { TensorStore::open_folder(dir.str()); }, ExitCode::bad_input, "also appears in");
}

TEST(Safetensors, MalformedCorpusIsRejectedInProcess) {
  const auto expected = read_json(fixture("bad_safetensors/expected.json"));
  ASSERT_GE(expected.size(), 15u);
  for (const auto& [name, fragment] : expected.items()) {
    SCOPED_TRACE(name);
    const auto path = fixture("bad_safetensors/" + name + ".safetensors");
    expect_error([&] { SafetensorsFile::open(path); }, ExitCode::bad_input, fragment.get<std::string>());
    expect_error([&] { SafetensorsFile::open(path); }, ExitCode::bad_input, path);
  }
}

}  // namespace
}  // namespace st
