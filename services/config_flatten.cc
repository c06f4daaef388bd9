#include "services/config_flatten.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"

namespace dreamshot::services {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Text of a scalar (non-message) field; index < 0 for a singular field.
std::string ScalarText(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return (rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name();
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return "";
}

void Flatten(const Message& m, const std::string& prefix, std::map<std::string, std::string>* out) {
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    const std::string key = prefix.empty() ? f->name() : absl::StrCat(prefix, ".", f->name());
    if (f->is_map()) {
      const FieldDescriptor* k = f->message_type()->map_key();
      const FieldDescriptor* v = f->message_type()->map_value();
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        const Message& entry = r->GetRepeatedMessage(m, f, i);
        const std::string entry_key = absl::StrCat(key, ".", ScalarText(entry, k, -1));
        if (v->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          Flatten(entry.GetReflection()->GetMessage(entry, v), entry_key, out);
        } else {
          (*out)[entry_key] = ScalarText(entry, v, -1);
        }
      }
    } else if (f->is_repeated()) {
      std::vector<std::string> items;
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          std::string json;
          (void)google::protobuf::util::MessageToJsonString(r->GetRepeatedMessage(m, f, i), &json);
          items.push_back(json);
        } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING ||
                   f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
          items.push_back(absl::StrCat("\"", ScalarText(m, f, i), "\""));
        } else {
          items.push_back(ScalarText(m, f, i));
        }
      }
      (*out)[key] = absl::StrCat("[", absl::StrJoin(items, ","), "]");
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Flatten(r->GetMessage(m, f), key, out);
    } else {
      (*out)[key] = ScalarText(m, f, -1);
    }
  }
}

}  // namespace

std::map<std::string, std::string> FlattenMessage(const Message& message) {
  std::map<std::string, std::string> out;
  Flatten(message, "", &out);
  return out;
}

absl::StatusOr<FlattenedConfig> FlattenConfig(const google::protobuf::Any& config) {
  std::string type_name;
  if (!google::protobuf::Any::ParseAnyTypeUrl(config.type_url(), &type_name)) {
    return absl::InvalidArgumentError(absl::StrCat("config has a malformed type_url '", config.type_url(), "'"));
  }
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type_name);
  if (descriptor == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("config type '", type_name, "' is not known to this server"));
  }
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
  if (prototype == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("config type '", type_name, "' cannot be instantiated"));
  }
  std::unique_ptr<Message> message(prototype->New());
  if (!message->ParseFromString(config.value())) {
    return absl::InvalidArgumentError(absl::StrCat("config bytes do not parse as ", type_name));
  }
  return FlattenConfig(*message);
}

absl::StatusOr<FlattenedConfig> FlattenConfig(const Message& config) {
  FlattenedConfig out;
  out.type_name = config.GetDescriptor()->full_name();
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(config, &out.json, options).ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config of type ", out.type_name, " cannot be printed as JSON"));
  }
  out.params = FlattenMessage(config);
  return out;
}

}  // namespace dreamshot::services
